package cost

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// plannedWorkload is, in micros, what the default planned workload costs a
// month, worked out here apart from the estimator: 2 replicas of 0.1 vCPU
// at 0.04048 USD an hour and 0.125 GiB at 0.004445 USD a GiB-hour, for 730
// hours: 5.91008 + 0.8112125 = 6.7212925 USD, rounded half up to the micro.
const plannedWorkload = 6_721_293

// engines are the two stores, migrated and empty.
var engines = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		require.NoError(t, st.Migrate(t.Context()))
		return st
	}},
	{"postgres", func(t *testing.T) store.Store {
		st, err := postgres.Open(t.Context(), pgtest.New(t).NewDatabase(t))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		require.NoError(t, st.Migrate(t.Context()))
		return st
	}},
}

func TestFirstPromotionIntoAnEnvironmentAddsItsWorkloadAndAnotherRevisionNothing(t *testing.T) {
	s := NewServer(nil, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings())
	spec := store.ProvisioningSpec{Team: "team-orders", Database: "postgresql", DatabaseSize: "small", Bucket: true,
		Environments: []string{"staging", "production"}}

	change, basis := s.PromotionCostChange("orders-service", spec, "production", true)
	require.Equal(t, money.Of(plannedWorkload), change, "the shared claims run already: only the workload is new")
	require.Equal(t, "first promotion into production, which runs nothing yet: its workload", basis)

	change, basis = s.PromotionCostChange("orders-service", spec, "production", false)
	require.Equal(t, money.Sum{}, change)
	require.Equal(t, "production runs already: another revision changes no resource Cairn prices", basis)
}

func TestFirstPromotionIntoAnEnvironmentWithClaimsOfItsOwnAddsThemToo(t *testing.T) {
	settings := manifest.DefaultSettings()
	settings.Environments = manifest.DefaultEnvironments()
	for i := range settings.Environments {
		if settings.Environments[i].Name == "production" {
			settings.Environments[i].Claims = &manifest.Claims{}
		}
	}
	s := NewServer(nil, DefaultConfig(), nil, entityref.Teams{}, settings)
	spec := store.ProvisioningSpec{Team: "team-orders", Database: "postgresql", DatabaseSize: "small", Bucket: true,
		Environments: []string{"staging", "production"}, ReplicaCount: 2}

	change, basis := s.PromotionCostChange("orders-service", spec, "production", true)
	require.Equal(t, money.Of(plannedWorkload+smallPostgresWithBucket), change)
	require.Equal(t, "first promotion into production, which runs nothing yet: its workload and its own claims orders-service-production-db, orders-service-production-bucket", basis)
}

// A team with 4,900 of its 5,000 billed by 20 June (30 days) projects
// 4,900 / 20 x 30 = 7,350, and a promotion adding 6.721293 a month adds
// it for the 10 days left: 2.240431 more.
func TestTeamMonthIsProjectedFromTheDaysBegunPlusTheChangeForTheDaysLeft(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			st := engine.open(t)
			s := NewServer(st, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings())
			now := time.Date(2031, 6, 20, 15, 0, 0, 0, time.UTC)
			s.now = func() time.Time { return now }
			provision(t, st, "orders-service")
			_, err := st.ReplaceBilling(t.Context(), "test", func(yield func(store.BillingRow, error) bool) {
				for day := range 20 {
					start := time.Date(2031, 6, day+1, 0, 0, 0, 0, time.UTC)
					if !yield(store.BillingRow{
						ChargePeriodStart: start, ChargePeriodEnd: start.Add(24 * time.Hour), ChargeCategory: "Usage",
						Service: "orders-service", ResourceID: "orders-service-db", ServiceName: "Amazon RDS", ServiceCategory: "Databases",
						Currency: "USD", BilledCost: 245_000_000, EffectiveCost: 245_000_000, ListCost: 245_000_000,
					}, nil) {
						return
					}
				}
			})
			require.NoError(t, err)

			month, err := s.ProjectTeamMonth(t.Context(), "team-orders", money.Of(plannedWorkload))
			require.NoError(t, err)
			require.Equal(t, TeamMonth{
				Currency: "USD", Spent: money.Of(4_900_000_000), Projected: money.Of(7_352_240_431),
				BudgetNote: "team team-orders has no budget",
			}, month)

			_, err = st.PutBudget(t.Context(), store.Budget{Team: "team-orders", MonthlyAmount: 5_000_000_000, Currency: "USD"})
			require.NoError(t, err)
			month, err = s.ProjectTeamMonth(t.Context(), "team-orders", money.Sum{})
			require.NoError(t, err)
			require.Equal(t, TeamMonth{
				Currency: "USD", Spent: money.Of(4_900_000_000), Projected: money.Of(7_350_000_000), Budget: 5_000_000_000,
			}, month)
		})
	}
}

// An estimate is of a whole month already: it is projected as it is, not
// scaled up by the days left.
func TestEstimatedSpendIsProjectedAsTheMonthsFigure(t *testing.T) {
	s, st := newTestServer(t)
	now := time.Date(2031, 6, 10, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	provision(t, st, "orders-service")
	_, err := st.PutBudget(t.Context(), store.Budget{Team: "team-orders", MonthlyAmount: 100_000_000, Currency: "EUR"})
	require.NoError(t, err)

	month, err := s.ProjectTeamMonth(t.Context(), "team-orders", money.Sum{})
	require.NoError(t, err)
	require.Equal(t, TeamMonth{
		Currency: "USD", Spent: money.Of(smallPostgresWithBucket), Projected: money.Of(smallPostgresWithBucket),
		BudgetNote: "the budget of team team-orders is in EUR, and Cairn reports cost in USD",
	}, month, "a budget in another currency is not compared")
}
