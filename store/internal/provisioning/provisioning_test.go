package provisioning

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestCheckCreateTakesTheCatalogEntryOfTheService(t *testing.T) {
	require.NoError(t, CheckCreate(store.Provisioning{Service: "orders"}, &store.Service{Name: "orders"}))
}

func TestCheckCreateRefusesAMissingOrOtherCatalogEntry(t *testing.T) {
	require.ErrorContains(t, CheckCreate(store.Provisioning{Service: "orders"}, nil), `"orders"`)
	err := CheckCreate(store.Provisioning{Service: "orders"}, &store.Service{Name: "cart"})
	require.ErrorContains(t, err, `"orders"`)
	require.ErrorContains(t, err, `"cart"`)
}

func TestCheckDecision(t *testing.T) {
	require.NoError(t, CheckDecision("approved"))
	require.NoError(t, CheckDecision("denied"))
	for _, state := range []string{"pending", "", "Approved", "rejected"} {
		require.Error(t, CheckDecision(state), "state %q", state)
	}
}

func TestNewPromotionPageKeepsCursorAndLimit(t *testing.T) {
	require.Equal(t, PromotionPage{Before: 42, Limit: 10}, NewPromotionPage(42, 10))
}

func TestNewPromotionPageListsFromTheNewestWithoutCursor(t *testing.T) {
	for _, before := range []int64{0, -1, math.MinInt64} {
		require.Equal(t, int64(math.MaxInt64), NewPromotionPage(before, 10).Before, "before %d", before)
	}
}

func TestNewPromotionPageLimitIsNeverNegative(t *testing.T) {
	require.Zero(t, NewPromotionPage(0, 0).Limit)
	require.Zero(t, NewPromotionPage(0, -1).Limit)
	require.Zero(t, NewPromotionPage(0, math.MinInt).Limit)
}
