package cost

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/store"
)

// smallPostgresWithBucket is, in micros, what provision's spec costs a
// month at the default prices, worked out here apart from the estimator:
// two db.t3.medium instances (Multi-AZ) at 0.072 USD an hour for 730
// hours, 20 GB of gp3 at 0.115 USD a GB-month on each, and a bucket
// assumed to hold 100 GB at 0.023 USD a GB-month.
const smallPostgresWithBucket = 2*72_000*730 + 2*20*115_000 + 100*23_000 // 112.02 USD

func TestSmallPostgresWithBucketIsWhatTheEstimatorSays(t *testing.T) {
	require.Equal(t, int64(112_020_000), int64(smallPostgresWithBucket))
}

func TestUpdateThenGetTeamBudgetBurnsTheTeamsSpendOfTheMonth(t *testing.T) {
	s, st := newTestServer(t)
	now := time.Now().UTC()
	s.now = func() time.Time { return now }

	// Estimated: provisioned this month, no billing imported for it.
	provision(t, st, "orders-service")
	// Billed: its imported cost of the month replaces its estimate.
	provision(t, st, "cart-service")
	// Another team's: not the team's spend.
	_, _, err := st.UpsertService(t.Context(), &store.Service{Name: "search-service", Owner: "group:default/team-search", Team: "team-search"}, "")
	require.NoError(t, err)
	const cartBilled = 40_500_000 // 40.50 USD
	row := func(service, resource string, cost int64) store.BillingRow {
		return store.BillingRow{
			ChargePeriodStart: now, ChargePeriodEnd: now.Add(time.Hour), ChargeCategory: "Usage",
			Service: service, ResourceID: resource, ServiceName: "Amazon RDS", ServiceCategory: "Databases",
			Currency: "USD", BilledCost: cost, EffectiveCost: cost, ListCost: cost,
		}
	}
	_, err = st.ReplaceBilling(t.Context(), "test", func(yield func(store.BillingRow, error) bool) {
		_ = yield(row("cart-service", "cart-db", cartBilled/2), nil) &&
			yield(row("cart-service", "cart-db", cartBilled/2), nil) &&
			yield(row("search-service", "search-db", 999_000_000), nil)
	})
	require.NoError(t, err)

	const spent = smallPostgresWithBucket + cartBilled // 152.52 USD
	const amount = 1_234_560_000                       // 1234.56 USD
	want := &cairnv1.Budget{
		Name: "teams/team-orders/budget", MonthlyAmount: 1234.56, Currency: "USD",
		Spent: 152.52, BurnPercent: float64(spent) * 100 / amount,
	}
	require.InDelta(t, 12.354, want.BurnPercent, 0.001)

	updated, err := s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
		Name: "teams/team-orders/budget", MonthlyAmount: 1234.56, Currency: "USD",
		Spent: 1, BurnPercent: 2, // output only: ignored
	}})
	require.NoError(t, err)
	require.Equal(t, want, updated.GetBudget())

	got, err := s.GetTeamBudget(t.Context(), &cairnv1.GetTeamBudgetRequest{Name: "teams/team-orders/budget"})
	require.NoError(t, err)
	require.Equal(t, want, got.GetBudget())

	stored, err := st.GetBudget(t.Context(), "team-orders")
	require.NoError(t, err)
	require.Equal(t, int64(amount), stored.MonthlyAmount)
}

func TestTeamBudgetOfATeamWithoutServicesBurnsNothing(t *testing.T) {
	s, _ := newTestServer(t)
	resp, err := s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
		Name: "teams/team-new/budget", MonthlyAmount: 100,
	}})
	require.NoError(t, err)
	require.Equal(t, &cairnv1.Budget{Name: "teams/team-new/budget", MonthlyAmount: 100, Currency: "USD"}, resp.GetBudget())
}

func TestUpdateTeamBudgetReadsTheAmountExactly(t *testing.T) {
	s, st := newTestServer(t)
	tenth, fifth := 0.1, 0.2 // variables: constants would add up exactly
	for _, tc := range []struct {
		amount float64
		micros int64 // 0: refused
	}{
		{0.3, 300_000},
		{19.99, 19_990_000},
		{0.000001, 1},
		{9_000_000_000_000, 9_000_000_000_000_000_000},
		// 0.30000000000000004 has more fraction digits than a micro-unit
		// holds: refused, not rounded.
		{tenth + fifth, 0},
	} {
		_, err := s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
			Name: "teams/team-orders/budget", MonthlyAmount: tc.amount, Currency: "USD",
		}})
		if tc.micros == 0 {
			require.Equal(t, codes.InvalidArgument, codeOf(err), tc.amount)
			continue
		}
		require.NoError(t, err, tc.amount)
		stored, err := st.GetBudget(t.Context(), "team-orders")
		require.NoError(t, err)
		require.Equal(t, tc.micros, stored.MonthlyAmount, tc.amount)
	}
}

func TestUpdateTeamBudgetRefusesInvalidBudgets(t *testing.T) {
	s, st := newTestServer(t)
	valid := func() *cairnv1.Budget {
		return &cairnv1.Budget{Name: "teams/team-orders/budget", MonthlyAmount: 500, Currency: "USD"}
	}
	with := func(change func(b *cairnv1.Budget)) *cairnv1.Budget {
		b := valid()
		change(b)
		return b
	}
	for _, tc := range []struct {
		name   string
		budget *cairnv1.Budget
		fields []string
	}{
		{"no budget", nil, []string{"budget"}},
		{"no name", with(func(b *cairnv1.Budget) { b.Name = "" }), []string{"budget.name"}},
		{"name of another resource", with(func(b *cairnv1.Budget) { b.Name = "services/orders-service" }), []string{"budget.name"}},
		{"name without budget", with(func(b *cairnv1.Budget) { b.Name = "teams/team-orders" }), []string{"budget.name"}},
		{"name without team", with(func(b *cairnv1.Budget) { b.Name = "teams//budget" }), []string{"budget.name"}},
		{"team that is no DNS label", with(func(b *cairnv1.Budget) { b.Name = "teams/Team_Orders/budget" }), []string{"budget.name"}},
		{"team as an entity reference", with(func(b *cairnv1.Budget) { b.Name = "teams/group:default/team-orders/budget" }), []string{"budget.name"}},
		{"team in a path", with(func(b *cairnv1.Budget) { b.Name = "teams/a/b/budget" }), []string{"budget.name"}},
		{"zero amount", with(func(b *cairnv1.Budget) { b.MonthlyAmount = 0 }), []string{"budget.monthly_amount"}},
		{"negative amount", with(func(b *cairnv1.Budget) { b.MonthlyAmount = -5 }), []string{"budget.monthly_amount"}},
		{"amount finer than a micro-unit", with(func(b *cairnv1.Budget) { b.MonthlyAmount = 1.0000001 }), []string{"budget.monthly_amount"}},
		{"amount too large", with(func(b *cairnv1.Budget) { b.MonthlyAmount = 1e20 }), []string{"budget.monthly_amount"}},
		{"other currency", with(func(b *cairnv1.Budget) { b.Currency = "EUR" }), []string{"budget.currency"}},
		{"currency in lower case", with(func(b *cairnv1.Budget) { b.Currency = "usd" }), []string{"budget.currency"}},
		{"everything wrong", &cairnv1.Budget{Name: "teams/X/budget", MonthlyAmount: -1, Currency: "EUR"},
			[]string{"budget.name", "budget.monthly_amount", "budget.currency"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: tc.budget})
			require.Equal(t, codes.InvalidArgument, codeOf(err))
			var apiErr *apierr.Error
			require.ErrorAs(t, err, &apiErr)
			var fields []string
			for _, v := range apiErr.Violations {
				fields = append(fields, v.Field)
				if v.Field == "budget.currency" {
					require.Equal(t, "must be USD, the currency Cairn reports in", v.Description)
				}
			}
			require.Equal(t, tc.fields, fields)
		})
	}
	_, err := st.GetBudget(t.Context(), "team-orders")
	require.ErrorIs(t, err, store.ErrNotFound, "a refused update wrote nothing")
}

func TestGetTeamBudgetRefusesANameThatIsNoBudgetsName(t *testing.T) {
	s, _ := newTestServer(t)
	for _, name := range []string{"", "teams/team-orders", "teams/Team_Orders/budget", "teams/user:jane/budget"} {
		_, err := s.GetTeamBudget(t.Context(), &cairnv1.GetTeamBudgetRequest{Name: name})
		require.Equal(t, codes.InvalidArgument, codeOf(err), name)
		var apiErr *apierr.Error
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, "name", apiErr.Violations[0].Field)
	}
}

func TestGetTeamBudgetOfATeamWithoutOneIsNotFound(t *testing.T) {
	s, _ := newTestServer(t)
	_, err := s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
		Name: "teams/team-search/budget", MonthlyAmount: 10,
	}})
	require.NoError(t, err)

	_, err = s.GetTeamBudget(t.Context(), &cairnv1.GetTeamBudgetRequest{Name: "teams/team-orders/budget"})
	require.Equal(t, codes.NotFound, codeOf(err))
	var apiErr *apierr.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "BUDGET_NOT_FOUND", apiErr.Reason)
	require.Equal(t, map[string]string{"budget": "teams/team-orders/budget"}, apiErr.Metadata)
}

func TestUpdateTeamBudgetReplacesTheTeamsBudget(t *testing.T) {
	s, st := newTestServer(t)
	provision(t, st, "orders-service")
	update := func(amount float64) *cairnv1.Budget {
		t.Helper()
		resp, err := s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
			Name: "teams/team-orders/budget", MonthlyAmount: amount,
		}})
		require.NoError(t, err)
		return resp.GetBudget()
	}
	first := update(200)
	require.Equal(t, float64(smallPostgresWithBucket)*100/200_000_000, first.GetBurnPercent())

	second := update(100)
	require.Equal(t, 100.0, second.GetMonthlyAmount())
	require.Equal(t, "USD", second.GetCurrency())
	require.Equal(t, 112.02, second.GetSpent())
	require.Equal(t, float64(smallPostgresWithBucket)*100/100_000_000, second.GetBurnPercent())

	got, err := s.GetTeamBudget(t.Context(), &cairnv1.GetTeamBudgetRequest{Name: "teams/team-orders/budget"})
	require.NoError(t, err)
	require.Equal(t, second, got.GetBudget())
}
