// Package evidence computes what the approver of a promotion is shown of
// its money and risk, when the promotion is requested: the estimated
// monthly cost change, the team's spend projected to the end of the month
// against its budget, the service's change failure rate over 30 days, and
// the open incidents charged to the revision the environment runs. It
// adds nothing of its own to those figures: cost prices and projects,
// delivery computes DORA, the store finds the incidents.
package evidence

import (
	"context"
	"errors"
	"time"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/cost"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/store"
)

// FailureWindow is the window of the change failure rate shown.
const FailureWindow = "30d"

// Cost is what evidence asks of the cost service.
type Cost interface {
	PromotionCostChange(service string, spec store.ProvisioningSpec, env string, runsNothing bool) (money.Sum, string)
	ProjectTeamMonth(ctx context.Context, team string, change money.Sum) (cost.TeamMonth, error)
}

// Dora is what evidence asks of delivery.
type Dora interface {
	ServiceDora(ctx context.Context, name, window string) (delivery.Dora, error)
}

// Incidents is where the open incidents of a revision are read.
type Incidents interface {
	OpenIncidentsOfRevision(ctx context.Context, service, revision string) ([]store.Incident, error)
}

// Source computes promotions' evidence.
type Source struct {
	cost      Cost
	dora      Dora
	incidents Incidents
	now       func() time.Time
}

// New returns a Source over the cost service, delivery and the store.
func New(c Cost, d Dora, incidents Incidents) *Source {
	return &Source{cost: c, dora: d, incidents: incidents, now: time.Now}
}

// PromotionEvidence is the evidence on promoting a revision of prov's
// service into env, which runs the revision running ("" for nothing).
// Store failures are errors; a figure that cannot be computed is left
// zero with the reason beside it.
func (s *Source) PromotionEvidence(ctx context.Context, prov store.Provisioning, env, running string) (*store.PromotionEvidence, error) {
	change, basis := s.cost.PromotionCostChange(prov.Service, prov.Spec, env, running == "")
	e := &store.PromotionEvidence{
		ComputeTime:     s.now().UTC().Truncate(time.Microsecond),
		CostChangeBasis: basis,
		RunningRevision: running,
	}
	month, err := s.cost.ProjectTeamMonth(ctx, prov.Spec.Team, change)
	if err != nil {
		return nil, err
	}
	e.Currency, e.TeamBudget, e.BudgetNote = month.Currency, month.Budget, month.BudgetNote
	var fits [3]bool
	e.MonthlyCostChange, fits[0] = change.Int64()
	e.TeamSpent, fits[1] = month.Spent.Int64()
	e.TeamProjected, fits[2] = month.Projected.Int64()
	if fits != [3]bool{true, true, true} {
		e.MonthlyCostChange, e.TeamSpent, e.TeamProjected = 0, 0, 0
		e.SpendUnknown = "the amounts pass what Cairn keeps (int64 micro-units): check the price table and the imported billing"
	}

	dora, err := s.dora.ServiceDora(ctx, prov.Service, FailureWindow)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	// A service Cairn provisioned but whose catalog entry is gone has no
	// DORA metrics: its rate is left at none.
	e.ChangeFailureRate = dora.ChangeFailureRate.Value
	e.ChangeFailureDeployments = dora.ChangeFailureRate.Samples
	e.ChangeFailureBand = dora.ChangeFailureRate.Band

	if running != "" {
		incidents, err := s.incidents.OpenIncidentsOfRevision(ctx, prov.Service, running)
		if err != nil {
			return nil, err
		}
		for _, i := range incidents {
			e.OpenIncidents = append(e.OpenIncidents, i.ID)
		}
	}
	return e, nil
}
