package cost

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// billedRow is a charge of now's month, its billed and effective cost
// cost, in currency.
func billedRow(now time.Time, service, resource, currency string, cost int64) store.BillingRow {
	return store.BillingRow{
		ChargePeriodStart: now, ChargePeriodEnd: now.Add(time.Hour), ChargeCategory: "Usage",
		Service: service, ResourceID: resource, ServiceName: "Amazon RDS", ServiceCategory: "Databases",
		Currency: currency, BilledCost: cost, EffectiveCost: cost, ListCost: cost,
	}
}

func importFrom(t *testing.T, st store.Store, source string, rows ...store.BillingRow) {
	t.Helper()
	_, err := st.ReplaceBilling(t.Context(), source, func(yield func(store.BillingRow, error) bool) {
		for _, row := range rows {
			if !yield(row, nil) {
				return
			}
		}
	})
	require.NoError(t, err)
}

func TestCostsPastInt64AreReportedNotOverflowed(t *testing.T) {
	s, st := newTestServer(t)
	now := time.Now().UTC()
	s.now = func() time.Time { return now }
	provision(t, st, "orders-service")
	provision(t, st, "cart-service")
	const most = math.MaxInt64 // 9,223,372,036,854.775807 USD
	importFrom(t, st, "aws",
		billedRow(now, "orders-service", "orders-db", "USD", most),
		billedRow(now, "orders-service", "orders-db", "USD", most),
		billedRow(now, "cart-service", "cart-db", "USD", most))
	_, err := st.ReplaceBilling(t.Context(), "prev", func(yield func(store.BillingRow, error) bool) {
		yield(billedRow(now.AddDate(0, -1, 0), "orders-service", "orders-db", "USD", 1_000_000), nil)
	})
	require.NoError(t, err)
	const unit = float64(most) / 1e6

	card, err := s.GetServiceCost(t.Context(), &cairnv1.GetServiceCostRequest{Name: "services/orders-service"})
	require.NoError(t, err)
	require.InEpsilon(t, 2*unit, card.GetTotalMonthlyCost(), 1e-12)
	require.Equal(t, TrendUp, card.GetBreakdown()[0].GetTrend())

	team, err := s.GetTeamCost(t.Context(), &cairnv1.GetTeamCostRequest{Name: "teams/team-orders"})
	require.NoError(t, err)
	require.InEpsilon(t, 3*unit, team.GetTotalMonthlyCost(), 1e-12)

	anomalies, err := s.ListCostAnomalies(t.Context(), &cairnv1.ListCostAnomaliesRequest{})
	require.NoError(t, err)
	require.Len(t, anomalies.GetAnomalies(), 1)
	require.InEpsilon(t, (2*unit-1)*100, anomalies.GetAnomalies()[0].GetGrowthPercent(), 1e-12)

	budget, err := s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
		Name: "teams/team-orders/budget", MonthlyAmount: 1000,
	}})
	require.NoError(t, err)
	require.InEpsilon(t, 3*unit, budget.GetBudget().GetSpent(), 1e-12)
	require.InEpsilon(t, 3*unit/10, budget.GetBudget().GetBurnPercent(), 1e-12)

	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	daily, err := s.dailyCosts(t.Context(), []string{"orders-service", "cart-service"}, start, start.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.InEpsilon(t, 3*unit, daily[0].GetCost(), 1e-12)
}

func TestBillingInAnotherCurrencyIsLeftOutOfEveryFigure(t *testing.T) {
	s, st := newTestServer(t)
	now := time.Now().UTC()
	s.now = func() time.Time { return now }
	_, _, err := st.UpsertService(t.Context(), &store.Service{Name: "orders-service", Owner: "group:default/team-orders", Team: "team-orders"}, "")
	require.NoError(t, err)
	// Kept from before imports were held to cost.currency.
	importFrom(t, st, "aws", billedRow(now, "orders-service", "orders-db", "USD", 100_000_000))
	importFrom(t, st, "azure", billedRow(now, "orders-service", "orders-sql", "EUR", 100_000_000))
	importFrom(t, st, "jp", billedRow(now, "orders-service", "orders-kv", "JPY", 100_000_000))

	card, err := s.GetServiceCost(t.Context(), &cairnv1.GetServiceCostRequest{Name: "services/orders-service"})
	require.NoError(t, err)
	require.Equal(t, 100.0, card.GetTotalMonthlyCost())
	require.Equal(t, "USD", card.GetCurrency())
	require.Len(t, card.GetBreakdown(), 1)
	require.Equal(t, "orders-db", card.GetBreakdown()[0].GetResource())

	team, err := s.GetTeamCost(t.Context(), &cairnv1.GetTeamCostRequest{Name: "teams/team-orders"})
	require.NoError(t, err)
	require.Equal(t, 100.0, team.GetTotalMonthlyCost())

	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	daily, err := s.dailyCosts(t.Context(), []string{"orders-service"}, start, start.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, 100.0, daily[0].GetCost())
}

func TestABudgetInAnotherCurrencyIsRefusedUntilSetAgain(t *testing.T) {
	s, st := newTestServer(t)
	_, err := st.PutBudget(t.Context(), store.Budget{Team: "team-orders", MonthlyAmount: 5_000_000, Currency: "EUR"})
	require.NoError(t, err)

	_, err = s.GetTeamBudget(t.Context(), &cairnv1.GetTeamBudgetRequest{Name: "teams/team-orders/budget"})
	require.Equal(t, codes.FailedPrecondition, codeOf(err))
	require.ErrorContains(t, err, "is in EUR, and Cairn reports cost in USD")

	_, err = s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
		Name: "teams/team-orders/budget", MonthlyAmount: 5, Currency: "EUR",
	}})
	require.Equal(t, codes.InvalidArgument, codeOf(err))

	_, err = s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
		Name: "teams/team-orders/budget", MonthlyAmount: 5,
	}})
	require.NoError(t, err)
	got, err := s.GetTeamBudget(t.Context(), &cairnv1.GetTeamBudgetRequest{Name: "teams/team-orders/budget"})
	require.NoError(t, err)
	require.Equal(t, "USD", got.GetBudget().GetCurrency())
}

// failingList is a store whose catalog cannot be listed.
type failingList struct{ Store }

var errList = errors.New("catalog unreadable")

func (failingList) ListServices(context.Context, store.ServiceFilter, string, int) ([]*store.Service, error) {
	return nil, errList
}

func TestABudgetUpdateThatFailsChangesNothing(t *testing.T) {
	_, st := newTestServer(t)
	s := NewServer(failingList{st}, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings())
	_, err := st.PutBudget(t.Context(), store.Budget{Team: "team-orders", MonthlyAmount: 5_000_000, Currency: "USD"})
	require.NoError(t, err)

	_, err = s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
		Name: "teams/team-orders/budget", MonthlyAmount: 7,
	}})
	require.ErrorIs(t, err, errList)
	got, err := st.GetBudget(t.Context(), "team-orders")
	require.NoError(t, err)
	require.Equal(t, int64(5_000_000), got.MonthlyAmount, "the failed update left the budget as it was")

	_, err = s.UpdateTeamBudget(t.Context(), &cairnv1.UpdateTeamBudgetRequest{Budget: &cairnv1.Budget{
		Name: "teams/team-new/budget", MonthlyAmount: 7,
	}})
	require.ErrorIs(t, err, errList)
	_, err = st.GetBudget(t.Context(), "team-new")
	require.ErrorIs(t, err, store.ErrNotFound, "the failed update created no budget")
}

func TestTrendComparesSumsPastInt64Exactly(t *testing.T) {
	huge := money.Of(math.MaxInt64).Add(money.Of(math.MaxInt64))
	require.Equal(t, TrendUp, trend(huge, money.Of(math.MaxInt64)))
	require.Equal(t, TrendDown, trend(money.Of(math.MaxInt64), huge))
	require.Equal(t, TrendStable, trend(huge, huge.Add(money.Of(1))))
	require.Equal(t, TrendUp, trend(money.Of(102), money.Of(100)))
	require.Equal(t, TrendStable, trend(money.Of(101), money.Of(100)))
	require.Equal(t, TrendDown, trend(money.Of(98), money.Of(100)))
}
