package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func testListPagination(t *testing.T, s store.Store) {
	const total, pageSize = 250, 100
	want := make([]string, total)
	for i := range want {
		want[i] = fmt.Sprintf("svc-%03d", i)
	}
	// Stored out of order, so that the order listed is the store's doing.
	for _, i := range rand.Perm(total) {
		upsert(t, s, &store.Service{Name: want[i]})
	}

	var got []string
	var pageSizes []int
	for after := ""; ; {
		page, err := s.ListServices(t.Context(), store.ServiceFilter{}, after, pageSize)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.Less(t, len(pageSizes), total, "listing does not end")
		pageSizes = append(pageSizes, len(page))
		got = append(got, names(page)...)
		after = page[len(page)-1].Name
	}
	require.Equal(t, []int{100, 100, 50}, pageSizes)
	require.Equal(t, want, got)
}

func testListNonPositiveLimit(t *testing.T, s store.Store) {
	upsert(t, s, fullService("orders"))
	for _, limit := range []int{0, -1} {
		page, err := s.ListServices(t.Context(), store.ServiceFilter{}, "", limit)
		require.NoError(t, err)
		require.Empty(t, page, "limit %d", limit)
	}
}

func testListFilters(t *testing.T, s store.Store) {
	for _, svc := range []*store.Service{
		{Name: "cart", Team: "payments", System: "checkout", Lifecycle: "production", Tags: []string{"go", "grpc"}, GoldenPath: true},
		{Name: "invoices", Team: "payments", System: "billing", Lifecycle: "experimental", Tags: []string{"python"}},
		{Name: "ledger", Team: "payments", System: "billing", Lifecycle: "production", Tags: []string{"go"}, GoldenPath: true},
		{Name: "legacy-admin"},
		{Name: "search", Team: "discovery", System: "catalog", Lifecycle: "production", Tags: []string{"go"}},
		{Name: "suggest", Team: "discovery", System: "catalog", Lifecycle: "deprecated", GoldenPath: true},
	} {
		upsert(t, s, svc)
	}
	yes, no := true, false

	for _, tc := range []struct {
		name   string
		filter store.ServiceFilter
		after  string
		want   []string
	}{
		{"NoFilterMatchesAll", store.ServiceFilter{}, "", []string{"cart", "invoices", "ledger", "legacy-admin", "search", "suggest"}},
		{"ByTeam", store.ServiceFilter{Team: "payments"}, "", []string{"cart", "invoices", "ledger"}},
		{"BySystem", store.ServiceFilter{System: "catalog"}, "", []string{"search", "suggest"}},
		{"ByLifecycle", store.ServiceFilter{Lifecycle: "production"}, "", []string{"cart", "ledger", "search"}},
		{"ByTag", store.ServiceFilter{Tag: "go"}, "", []string{"cart", "ledger", "search"}},
		{"ByGoldenPathTrue", store.ServiceFilter{GoldenPath: &yes}, "", []string{"cart", "ledger", "suggest"}},
		{"ByGoldenPathFalse", store.ServiceFilter{GoldenPath: &no}, "", []string{"invoices", "legacy-admin", "search"}},
		{"ByTeamAndTag", store.ServiceFilter{Team: "payments", Tag: "go"}, "", []string{"cart", "ledger"}},
		{"BySystemAndLifecycle", store.ServiceFilter{System: "billing", Lifecycle: "production"}, "", []string{"ledger"}},
		{"ByLifecycleAndGoldenPath", store.ServiceFilter{Lifecycle: "production", GoldenPath: &no}, "", []string{"search"}},
		{"ByEveryFilter", store.ServiceFilter{Team: "payments", System: "checkout", Lifecycle: "production", Tag: "grpc", GoldenPath: &yes}, "", []string{"cart"}},
		{"ByFiltersNoServiceMatchesAll", store.ServiceFilter{Team: "discovery", Tag: "python"}, "", nil},
		{"ByUnknownTeam", store.ServiceFilter{Team: "nobody"}, "", nil},
		{"ByTeamAfterCursor", store.ServiceFilter{Team: "payments"}, "cart", []string{"invoices", "ledger"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListServices(t.Context(), tc.filter, tc.after, 100)
			require.NoError(t, err)
			require.Equal(t, tc.want, names(page))
		})
	}
}

func testTagFilterFollowsUpdate(t *testing.T, s store.Store) {
	svc := fullService("orders")
	svc.Tags = []string{"java", "legacy"}
	upsert(t, s, svc)
	svc.Tags = []string{"go", "legacy"}
	upsert(t, s, svc)

	require.Empty(t, listNames(t, s, store.ServiceFilter{Tag: "java"}))
	require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{Tag: "go"}))
	require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{Tag: "legacy"}))
}

func testTagFilterForgetsDeleted(t *testing.T, s store.Store) {
	svc := fullService("orders")
	upsert(t, s, svc)
	require.NoError(t, s.DeleteService(t.Context(), "orders", ""))

	require.Empty(t, listNames(t, s, store.ServiceFilter{Tag: svc.Tags[0]}))
}

func testDuplicateTags(t *testing.T, s store.Store) {
	svc := fullService("orders")
	svc.Tags = []string{"go", "go"}
	stored := upsert(t, s, svc)

	require.Equal(t, []string{"go", "go"}, stored.Tags)
	require.Equal(t, []string{"orders"}, listNames(t, s, store.ServiceFilter{Tag: "go"}))
}

// byteOrdered are names in byte order, the order Go compares strings in:
// upper case before lower case, accented letters after every ASCII one.
// Collations that sort for people reorder them.
var byteOrdered = []string{"B", "a", "a-c", "a0", "ab", "z", "é"}

func testListByteOrder(t *testing.T, s store.Store) {
	// Stored out of order, so that the order listed is the store's doing.
	for _, i := range rand.Perm(len(byteOrdered)) {
		upsert(t, s, &store.Service{Name: byteOrdered[i]})
	}

	require.Equal(t, byteOrdered, listNames(t, s, store.ServiceFilter{}))
	page, err := s.ListServices(t.Context(), store.ServiceFilter{}, "a", 100)
	require.NoError(t, err)
	require.Equal(t, byteOrdered[2:], names(page), "after a")
}

// listNames lists the names of all the services filter matches.
func listNames(t *testing.T, s store.Store, filter store.ServiceFilter) []string {
	t.Helper()
	page, err := s.ListServices(t.Context(), filter, "", 1000)
	require.NoError(t, err)
	return names(page)
}

// names is the services' names, nil when there are none.
func names(services []*store.Service) []string {
	var out []string
	for _, svc := range services {
		out = append(out, svc.Name)
	}
	return out
}
