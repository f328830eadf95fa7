package cost

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// PromotionCostChange is the estimated change of service's monthly cost
// that promoting a revision into env makes, and what it was priced from.
// Into an environment that runs nothing yet, a first promotion starts the
// environment's workload (PlannedWorkload, with the spec's replica count
// where the environment takes it) and, when the environment has claims of
// its own, brings them into use. Another revision of a running environment
// changes no resource Cairn prices: the workload and claims are the ones
// already running and already counted.
func (s *Server) PromotionCostChange(service string, spec store.ProvisioningSpec, env string, runsNothing bool) (money.Sum, string) {
	if !runsNothing {
		return money.Sum{}, fmt.Sprintf("%s runs already: another revision changes no resource Cairn prices", env)
	}
	planned := spec
	planned.Environments = []string{env}
	lines := s.config.plannedLines(service, planned, s.settings)
	var own []string
	for _, set := range s.settings.ClaimSets(manifest.Plan{Environments: spec.Environments}) {
		if set.Environment != env {
			continue
		}
		for _, l := range s.config.Prices.Estimate(service, spec, s.settings) {
			if l.Resource == set.DatabaseName(service) || l.Resource == set.BucketName(service) {
				lines = append(lines, l)
				own = append(own, l.Resource)
			}
		}
	}
	basis := fmt.Sprintf("first promotion into %s, which runs nothing yet: its workload", env)
	if len(own) > 0 {
		basis += " and its own claims " + strings.Join(own, ", ")
	}
	return Sum(lines), basis
}

// TeamMonth is a team's spend of the current UTC month, in Currency.
type TeamMonth struct {
	Currency string
	// Spent is what the team spent so far, as GetTeamBudget counts it:
	// billed where billing was imported, estimated where not.
	Spent money.Sum
	// Projected is the month's spend projected to its end: billed spend
	// so far divided by the days begun (today counts) times the month's
	// days; estimated spend as it is, for an estimate is of a whole month
	// already; plus the change for the days that remain after today.
	Projected money.Sum
	// Budget is the team's monthly budget, when it has one in Currency;
	// else BudgetNote says why there is none to compare with.
	Budget     int64
	BudgetNote string
}

// ProjectTeamMonth is the team's spend of the current UTC month projected
// to its end, with a monthly cost change from today on, against its
// budget.
func (s *Server) ProjectTeamMonth(ctx context.Context, team string, change money.Sum) (TeamMonth, error) {
	now := s.now().UTC()
	start, err := monthStart("", now)
	if err != nil {
		return TeamMonth{}, err
	}
	days := int64(start.AddDate(0, 1, 0).Sub(start) / (24 * time.Hour))
	begun := int64(now.Day())
	var billed, estimated money.Sum
	for after := ""; ; {
		services, err := s.store.ListServices(ctx, store.ServiceFilter{Team: team}, after, servicePage)
		if err != nil {
			return TeamMonth{}, err
		}
		for _, svc := range services {
			current, _, _, err := s.monthLines(ctx, svc.Name, start, now)
			if err != nil {
				return TeamMonth{}, err
			}
			for _, l := range current {
				if l.Source == SourceBilled {
					billed = billed.Add(l.MonthlyCost)
				} else {
					estimated = estimated.Add(l.MonthlyCost)
				}
			}
		}
		if len(services) < servicePage {
			break
		}
		after = services[len(services)-1].Name
	}
	month := TeamMonth{
		Currency: s.config.Currency,
		Spent:    billed.Add(estimated),
		Projected: scaled(billed, days, begun).
			Add(estimated).
			Add(scaled(change, days-begun, days)),
	}
	b, err := s.store.GetBudget(ctx, team)
	switch {
	case errors.Is(err, store.ErrNotFound):
		month.BudgetNote = fmt.Sprintf("team %s has no budget", team)
	case err != nil:
		return TeamMonth{}, err
	case b.Currency != s.config.Currency:
		month.BudgetNote = fmt.Sprintf("the budget of team %s is in %s, and Cairn reports cost in %s", team, b.Currency, s.config.Currency)
	default:
		month.Budget = b.MonthlyAmount
	}
	return month, nil
}

// scaled is sum*num/den rounded half away from zero, exactly: sums may be
// too large for int64 products.
func scaled(sum money.Sum, num, den int64) money.Sum {
	n := sum.Big()
	n.Mul(n, big.NewInt(num))
	negative := n.Sign() < 0
	n.Abs(n)
	q := roundedQuotient(n, den)
	if negative {
		q.Neg(q)
	}
	return money.FromBig(q)
}
