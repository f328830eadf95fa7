package cost

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/notify"
	"github.com/cairn-dev/cairn/store"
)

func TestBudgetAlertsTellTheHighestThresholdATeamReachedThisMonth(t *testing.T) {
	s, st := newTestServer(t)
	now := time.Date(2026, 12, 20, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	provision(t, st, "orders-service") // estimated at 112.02 USD a month
	events := func() []notify.Event {
		t.Helper()
		got, err := s.BudgetAlerts().Events(t.Context())
		require.NoError(t, err)
		return got
	}
	put := func(team string, micros int64, currency string) {
		t.Helper()
		_, err := st.PutBudget(t.Context(), store.Budget{Team: team, MonthlyAmount: micros, Currency: currency})
		require.NoError(t, err)
	}

	put("team-orders", 1_000_000_000, "USD")
	require.Empty(t, events(), "11% of the budget: nothing to tell")

	put("team-orders", 140_000_000, "USD") // 112.02 of 140.00: 80.01%
	require.Equal(t, []notify.Event{{
		Key: "budget/team-orders/2026-12/80", Kind: "budget_80_percent", Team: "team-orders",
		Title: "80% of the budget spent: team-orders, 2026-12",
		Text:  "team-orders has spent 112.02 USD of its 140.00 USD budget for 2026-12 (80%).", Recipient: "group:default/team-orders",
	}}, events())

	put("team-orders", 100_000_000, "USD")
	got := events()
	require.Len(t, got, 1, "the highest threshold reached, not each")
	require.Equal(t, "budget/team-orders/2026-12/100", got[0].Key)
	require.Equal(t, "team-orders has spent 112.02 USD of its 100.00 USD budget for 2026-12 (112%).", got[0].Text)

	put("team-orders", 100_000_000, "EUR")
	require.Empty(t, events(), "a budget in another currency is not compared with spend in USD")
}

func TestAnomalyAlertsTellTheOwningTeamOnceAMonthOfAServiceThatCostsMore(t *testing.T) {
	s, st := newTestServer(t)
	now := time.Date(2026, 12, 20, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	provision(t, st, "orders-service")
	provision(t, st, "cart-service")
	billedBefore := func(service string, micros int64) store.BillingRow {
		return billedRow(now.AddDate(0, -1, 0), service, service+"-db", "USD", micros)
	}
	events := func() []notify.Event {
		t.Helper()
		got, err := s.AnomalyAlerts().Events(t.Context())
		require.NoError(t, err)
		return got
	}

	// 10% more is the threshold itself: not an anomaly.
	importFrom(t, st, "aws",
		billedBefore("orders-service", 100_000_000), billedRow(now, "orders-service", "orders-service-db", "USD", 110_000_000),
		billedBefore("cart-service", 50_000_000), billedRow(now, "cart-service", "cart-service-db", "USD", 50_000_000))
	require.Empty(t, events())

	importFrom(t, st, "aws",
		billedBefore("orders-service", 100_000_000), billedRow(now, "orders-service", "orders-service-db", "USD", 132_000_000),
		billedBefore("cart-service", 50_000_000), billedRow(now, "cart-service", "cart-service-db", "USD", 50_000_000))
	require.Equal(t, []notify.Event{{
		Key: "cost-anomaly/orders-service/2026-12", Kind: "cost_anomaly", Team: "team-orders", Service: "orders-service",
		Title:     "Cost anomaly: orders-service, 2026-12",
		Text:      "orders-service costs 132.00 USD in 2026-12, 32% more than its 100.00 USD in 2026-11.",
		Recipient: "group:default/team-orders",
	}}, events())

	// Growing further keeps the key: the team is told once a month.
	importFrom(t, st, "aws",
		billedBefore("orders-service", 100_000_000), billedRow(now, "orders-service", "orders-service-db", "USD", 150_000_000))
	got := events()
	require.Len(t, got, 1)
	require.Equal(t, "cost-anomaly/orders-service/2026-12", got[0].Key)
	require.Equal(t, AnomalyInterval, s.AnomalyAlerts().Interval())
}
