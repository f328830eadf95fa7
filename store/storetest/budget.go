package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func testBudgetRoundTrip(t *testing.T, s store.Store) {
	want := store.Budget{Team: "payments", MonthlyAmount: 1_234_567_890, Currency: "USD"}
	requireEveryClientFieldSet(t, want, "UpdateTime")
	before := time.Now().Add(-time.Second)

	put, err := s.PutBudget(t.Context(), want)
	require.NoError(t, err)
	require.WithinRange(t, put.UpdateTime, before, time.Now().Add(time.Second))
	require.Equal(t, time.UTC, put.UpdateTime.Location())
	want.UpdateTime = put.UpdateTime
	require.Equal(t, want, put)

	got, err := s.GetBudget(t.Context(), "payments")
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func testBudgetUpsertReplaces(t *testing.T, s store.Store) {
	first, err := s.PutBudget(t.Context(), store.Budget{Team: "payments", MonthlyAmount: 1_000_000, Currency: "USD"})
	require.NoError(t, err)
	other, err := s.PutBudget(t.Context(), store.Budget{Team: "search", MonthlyAmount: 7_000_000, Currency: "USD"})
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond) // so that the update time moves

	second, err := s.PutBudget(t.Context(), store.Budget{Team: "payments", MonthlyAmount: 2_500_000, Currency: "EUR"})
	require.NoError(t, err)
	require.Equal(t, int64(2_500_000), second.MonthlyAmount)
	require.Equal(t, "EUR", second.Currency)
	require.True(t, second.UpdateTime.After(first.UpdateTime), "update time %v not after %v", second.UpdateTime, first.UpdateTime)

	got, err := s.GetBudget(t.Context(), "payments")
	require.NoError(t, err)
	require.Equal(t, second, got)
	got, err = s.GetBudget(t.Context(), "search")
	require.NoError(t, err)
	require.Equal(t, other, got)

	all, err := s.ListBudgets(t.Context())
	require.NoError(t, err)
	require.Equal(t, []store.Budget{second, other}, all, "every team's, by team, as stored")
}

func testBudgetNotFound(t *testing.T, s store.Store) {
	_, err := s.GetBudget(t.Context(), "payments")
	require.ErrorIs(t, err, store.ErrNotFound)

	_, err = s.PutBudget(t.Context(), store.Budget{Team: "search", MonthlyAmount: 1_000_000, Currency: "USD"})
	require.NoError(t, err)
	_, err = s.GetBudget(t.Context(), "payments")
	require.ErrorIs(t, err, store.ErrNotFound)
	// Team names match exactly, in byte order.
	_, err = s.GetBudget(t.Context(), "Search")
	require.ErrorIs(t, err, store.ErrNotFound)
}
