package evidence

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/cost"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// costOf answers a fixed change and month, as the cost service would
// price and project them (server/cost tests the figures).
type costOf struct {
	change money.Sum
	month  cost.TeamMonth
	asked  []string
}

func (c *costOf) PromotionCostChange(service string, _ store.ProvisioningSpec, env string, runsNothing bool) (money.Sum, string) {
	c.asked = append(c.asked, service+" "+env)
	if !runsNothing {
		return money.Sum{}, env + " runs already"
	}
	return c.change, "first into " + env
}

func (c *costOf) ProjectTeamMonth(_ context.Context, team string, change money.Sum) (cost.TeamMonth, error) {
	c.asked = append(c.asked, team+" "+change.String())
	return c.month, nil
}

// doraOf answers fixed DORA metrics, or an error.
type doraOf struct {
	dora delivery.Dora
	err  error
}

func (d doraOf) ServiceDora(context.Context, string, string) (delivery.Dora, error) {
	return d.dora, d.err
}

func newStore(t *testing.T) store.Store {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(t.Context()))
	return st
}

var prov = store.Provisioning{Service: "orders-service", Spec: store.ProvisioningSpec{Team: "team-orders"}}

func TestEvidenceOfAPromotionIntoARunningEnvironmentGathersEveryFigure(t *testing.T) {
	st := newStore(t)
	opened := time.Now().Add(-time.Hour)
	for _, i := range []store.Incident{
		{ID: "INC-7", Service: "orders-service", OpenedAt: opened, CauseRevision: "v1.3.0"},
		{ID: "INC-8", Service: "orders-service", OpenedAt: opened, CauseRevision: "v1.2.0"},
	} {
		_, err := st.RecordIncident(t.Context(), i)
		require.NoError(t, err)
	}
	c := &costOf{month: cost.TeamMonth{Currency: "USD", Spent: money.Of(4_900_000_000), Projected: money.Of(7_350_000_000), Budget: 5_000_000_000}}
	d := doraOf{dora: delivery.Dora{ChangeFailureRate: delivery.Metric{Value: 0.25, Samples: 8, Band: delivery.BandLow}}}
	s := New(c, d, st)
	now := time.Date(2031, 6, 20, 15, 0, 0, 123_456_789, time.UTC)
	s.now = func() time.Time { return now }

	e, err := s.PromotionEvidence(t.Context(), prov, "production", "v1.3.0")
	require.NoError(t, err)
	require.Equal(t, &store.PromotionEvidence{
		ComputeTime: time.Date(2031, 6, 20, 15, 0, 0, 123_456_000, time.UTC), Currency: "USD",
		CostChangeBasis: "production runs already", TeamSpent: 4_900_000_000, TeamProjected: 7_350_000_000, TeamBudget: 5_000_000_000,
		ChangeFailureRate: 0.25, ChangeFailureDeployments: 8, ChangeFailureBand: "low",
		RunningRevision: "v1.3.0", OpenIncidents: []string{"INC-7"},
	}, e)
	require.Equal(t, []string{"orders-service production", "team-orders 0"}, c.asked, "the month is projected with the change")
	require.True(t, e.ProjectedOverBudget())
}

func TestEvidenceSaysWhatItCouldNotCompute(t *testing.T) {
	c := &costOf{change: money.Max, month: cost.TeamMonth{Currency: "USD", Spent: money.Of(1), Projected: money.Max, BudgetNote: "team team-orders has no budget"}}
	s := New(c, doraOf{err: store.ErrNotFound}, newStore(t))

	e, err := s.PromotionEvidence(t.Context(), prov, "production", "")
	require.NoError(t, err)
	require.Equal(t, "the amounts pass what Cairn keeps (int64 micro-units): check the price table and the imported billing", e.SpendUnknown)
	require.Zero(t, e.MonthlyCostChange)
	require.Zero(t, e.TeamProjected, "never a wrapped number")
	require.Equal(t, "team team-orders has no budget", e.BudgetNote)
	require.Zero(t, e.ChangeFailureDeployments, "a service out of the catalog has no DORA metrics")
	require.Empty(t, e.OpenIncidents, "an environment that runs nothing has no revision to charge")
	require.False(t, e.ProjectedOverBudget())
}
