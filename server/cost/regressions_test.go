package cost

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// regressionEngines opens a fresh, migrated store of each engine.
func regressionEngines(t *testing.T) map[string]store.Store {
	t.Helper()
	lite, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { lite.Close() })
	pg, err := postgres.Open(t.Context(), pgtest.New(t).NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { pg.Close() })
	stores := map[string]store.Store{"sqlite": lite, "postgres": pg}
	for _, st := range stores {
		require.NoError(t, st.Migrate(t.Context()))
	}
	return stores
}

// billDays bills service cost micro-units on each of days, at noon.
func billDays(service string, cost int64, days ...time.Time) []store.BillingRow {
	var rows []store.BillingRow
	for _, d := range days {
		rows = append(rows, dailyCharge(service, d.Add(12*time.Hour), cost))
	}
	return rows
}

// daySpan is the days first to last, both included.
func daySpan(first, last time.Time) []time.Time {
	var days []time.Time
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	return days
}

func deployTo(t *testing.T, st store.Store, service, revision string, finished time.Time) {
	t.Helper()
	_, err := st.RecordDeployment(t.Context(), store.Deployment{
		Service: service, Environment: "production", Revision: revision, Status: store.DeploymentSucceeded,
		StartedAt: finished.Add(-5 * time.Minute), FinishedAt: finished,
	})
	require.NoError(t, err)
}

// Hand-computed, with the default 7 days, 15% and 10 a month, and today
// the 22nd day of the data (day 1 is 21 days ago):
//
//   - orders-service: 10.00 a day on days 1 to 14, v2 deployed on day 14,
//     13.00 a day on days 15 to 21. Before: days 7-13, 70.00; after: days
//     15-21, 91.00; +30%, (91-70)/7*30 = 90.00 a month: a regression.
//   - cart-service: 10.00 every day, deployed on day 14: 70.00 each side,
//     no regression.
//   - orders-service v3, deployed on day 18: its after-window (days 19-25)
//     has not ended: no verdict, AFTER_WINDOW_OPEN.
//   - search-service: 10.00 a day but none on day 17, deployed on day 14:
//     BILLING_MISSING, one day missing, not a saving.
//
// The team's rate: 4 changes, 2 with a verdict, 1 regression: 0.5.
func TestCostRegressionsOnBothEngines(t *testing.T) {
	today := utcDay(time.Now())
	day := func(n int) time.Time { return today.AddDate(0, 0, n-22) }
	for name, st := range regressionEngines(t) {
		t.Run(name, func(t *testing.T) {
			for _, s := range []string{"orders-service", "cart-service", "search-service"} {
				provision(t, st, s)
			}
			var rows []store.BillingRow
			rows = append(rows, billDays("orders-service", 10_000_000, daySpan(day(1), day(14))...)...)
			rows = append(rows, billDays("orders-service", 13_000_000, daySpan(day(15), day(21))...)...)
			rows = append(rows, billDays("cart-service", 10_000_000, daySpan(day(1), day(21))...)...)
			rows = append(rows, billDays("search-service", 10_000_000, daySpan(day(1), day(16))...)...)
			rows = append(rows, billDays("search-service", 10_000_000, daySpan(day(18), day(21))...)...)
			importRows(t, st, rows)
			deployTo(t, st, "orders-service", "v2", day(14).Add(15*time.Hour))
			deployTo(t, st, "cart-service", "v7", day(14).Add(9*time.Hour))
			deployTo(t, st, "search-service", "v4", day(14).Add(10*time.Hour))
			deployTo(t, st, "orders-service", "v3", day(18).Add(11*time.Hour))

			s := NewServer(st, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings())
			resp, err := s.ListCostRegressions(t.Context(), &cairnv1.ListCostRegressionsRequest{Parent: "teams/team-orders"})
			require.NoError(t, err)
			require.Equal(t, "USD", resp.GetCurrency())
			require.EqualValues(t, 7, resp.GetWindowDays())
			require.Len(t, resp.GetChanges(), 4)
			byRevision := map[string]*cairnv1.CostChange{}
			for _, c := range resp.GetChanges() {
				byRevision[c.GetRevision()] = c
			}
			require.Equal(t, "v3", resp.GetChanges()[0].GetRevision(), "newest first")

			v2 := byRevision["v2"]
			require.Equal(t, VerdictRegression, v2.GetVerdict())
			require.InDelta(t, 10.0, v2.GetBeforeDailyCost(), 1e-9)
			require.InDelta(t, 13.0, v2.GetAfterDailyCost(), 1e-9)
			require.InDelta(t, 30.0, v2.GetGrowthPercent(), 1e-9)
			require.InDelta(t, 90.0, v2.GetMonthlyChange(), 1e-9)

			flat := byRevision["v7"]
			require.Equal(t, VerdictNoRegression, flat.GetVerdict())
			require.InDelta(t, 0.0, flat.GetGrowthPercent(), 1e-9)
			require.InDelta(t, 0.0, flat.GetMonthlyChange(), 1e-9)

			open := byRevision["v3"]
			require.Equal(t, VerdictPending, open.GetVerdict())
			require.Equal(t, PendingAfterWindowOpen, open.GetPendingReason())
			require.Nil(t, open.BeforeDailyCost)
			require.Nil(t, open.GrowthPercent)

			missing := byRevision["v4"]
			require.Equal(t, VerdictPending, missing.GetVerdict())
			require.Equal(t, PendingBillingMissing, missing.GetPendingReason())
			require.EqualValues(t, 1, missing.GetMissingDays())

			only, err := s.ListCostRegressions(t.Context(), &cairnv1.ListCostRegressionsRequest{
				Parent: "services/orders-service", RegressionsOnly: true,
			})
			require.NoError(t, err)
			require.Len(t, only.GetChanges(), 1)
			require.Equal(t, "v2", only.GetChanges()[0].GetRevision())

			// Paged one at a time, the four come back once each, in order.
			var paged []string
			for token := ""; ; {
				page, err := s.ListCostRegressions(t.Context(), &cairnv1.ListCostRegressionsRequest{
					Parent: "teams/team-orders", PageSize: 1, PageToken: token,
				})
				require.NoError(t, err)
				for _, c := range page.GetChanges() {
					paged = append(paged, c.GetRevision())
				}
				if token = page.GetNextPageToken(); token == "" {
					break
				}
			}
			require.Equal(t, []string{"v3", "v2", "v4", "v7"}, paged)

			// The DORA response carries the team's rate.
			events := delivery.New(st, delivery.NewPrometheus(prometheus.NewRegistry()), delivery.EventWindow{},
				entityref.Teams{}, manifest.DefaultSettings().ProductionEnvironments()).
				WithCostRegressions(NewRegressions(st, DefaultConfig(), manifest.DefaultSettings().ProductionEnvironments()))
			dora, err := delivery.NewServer(events, nil).GetTeamDora(t.Context(), &cairnv1.GetTeamDoraRequest{Name: "teams/team-orders"})
			require.NoError(t, err)
			rate := dora.GetDora().GetCostRegressionRate()
			require.EqualValues(t, 4, rate.GetChangeCount())
			require.EqualValues(t, 2, rate.GetJudgedCount())
			require.EqualValues(t, 1, rate.GetRegressionCount())
			require.InDelta(t, 0.5, rate.GetValue(), 1e-12)
			require.Empty(t, rate.GetUnavailableReason())

			// And so do the team's Prometheus gauges.
			collector := NewRegressionCollector(st, NewRegressions(st, DefaultConfig(), manifest.DefaultSettings().ProductionEnvironments()), slog.Default())
			require.NoError(t, testutil.CollectAndCompare(collector, strings.NewReader(`
# HELP platform_cost_judged_changes Changes of the team's services in the last 30 days with a cost verdict.
# TYPE platform_cost_judged_changes gauge
platform_cost_judged_changes{team="team-orders"} 2
# HELP platform_cost_regression_rate Changes of the team's services in the last 30 days that were cost regressions, over those with a cost verdict.
# TYPE platform_cost_regression_rate gauge
platform_cost_regression_rate{team="team-orders"} 0.5
# HELP platform_cost_regressions Changes of the team's services in the last 30 days judged cost regressions.
# TYPE platform_cost_regressions gauge
platform_cost_regressions{team="team-orders"} 1
`)))
		})
	}
}

// A rate over no verdicts says so rather than reading as zero.
func TestCostRegressionRateWithoutVerdictsSaysWhy(t *testing.T) {
	require.Equal(t, delivery.CostRateNoChanges, second(delivery.CostRegressionRate{}.Value()))
	require.Equal(t, delivery.CostRateNoVerdicts, second(delivery.CostRegressionRate{Changes: 3}.Value()))
}

func second(_ float64, reason string) string { return reason }

// The thresholds are strict and exact: growth of exactly 15% is not a
// regression, nor is growth past 15% that stays within the monthly floor.
func TestIsRegressionComparesExactlyAndStrictly(t *testing.T) {
	r := &Regressions{config: DefaultRegressionConfig()}
	sum := func(perDay int64) money.Sum { return sumOf(Micros(perDay * 7)) }
	for _, tc := range []struct {
		name          string
		before, after int64 // micro-units a day
		want          bool
	}{
		{"30% and 90 a month", 10_000_000, 13_000_000, true},
		{"exactly 15%", 100_000_000, 115_000_000, false},
		{"past 15%, over the floor", 100_000_000, 115_000_001 + 333_334, true},
		{"50% but 3 a month", 200_000, 300_000, false},
		{"from zero, over the floor", 0, 1_000_000, true},
		{"cheaper", 13_000_000, 10_000_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, r.isRegression(sum(tc.before), sum(tc.after)))
		})
	}
}

// Cairn refuses to start on regression rules that cannot judge.
func TestRegressionConfigIsValidated(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	for _, bad := range []RegressionConfig{
		{Days: 0, ThresholdPercent: 15},
		{Days: 91, ThresholdPercent: 15},
		{Days: 7, ThresholdPercent: -1},
		{Days: 7, ThresholdPercent: 15, FloorMonthly: -1},
	} {
		cfg := DefaultConfig()
		cfg.Regressions = bad
		require.Error(t, cfg.Validate(), "%+v", bad)
	}
}

// Bad input answers INVALID_ARGUMENT, an unknown service NOT_FOUND, and a
// team without services no changes.
func TestListCostRegressionsRefusesBadInput(t *testing.T) {
	s, _ := newTestServer(t)
	for _, req := range []*cairnv1.ListCostRegressionsRequest{
		{Parent: "teams/team-orders", StartDate: ymd(2031, 3, 1)},
		{Parent: "teams/team-orders", EndDate: ymd(2031, 3, 1)},
		{Parent: "teams/team-orders", StartDate: ymd(2031, 3, 2), EndDate: ymd(2031, 3, 1)},
		{Parent: "teams/team-orders", StartDate: ymd(2030, 1, 1), EndDate: ymd(2031, 3, 1)},
		{Parent: "teams/team-orders", PageToken: "not-a-token"},
	} {
		_, err := s.ListCostRegressions(t.Context(), req)
		require.Equal(t, codes.InvalidArgument, codeOf(err), "%v", req)
	}
	_, err := s.ListCostRegressions(t.Context(), &cairnv1.ListCostRegressionsRequest{Parent: "services/nowhere"})
	require.Equal(t, codes.NotFound, codeOf(err))
	resp, err := s.ListCostRegressions(t.Context(), &cairnv1.ListCostRegressionsRequest{Parent: "teams/team-empty"})
	require.NoError(t, err)
	require.Empty(t, resp.GetChanges())
}
