package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// auditBase is the time the tests' audit events happen around.
var auditBase = time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)

// fullAuditEvent is an event with every field the caller sets set, its time
// outside UTC and finer than a microsecond, so that a round trip that drops
// or shifts one shows.
func fullAuditEvent() store.AuditEvent {
	return store.AuditEvent{
		Time:      time.Date(2031, 3, 14, 15, 9, 26, 535_897_932, time.FixedZone("CET", 3600)),
		Principal: "user:default/jane",
		Action:    "cairn.v1.CatalogService/RegisterService",
		Target:    "services/orders-service",
		RequestID: "req-7f3a9c",
		Outcome:   "succeeded",
		Code:      "OK",
		Detail:    "rollback of production to v1.2.0, which it ran before; it runs v1.3.0",
	}
}

func testAuditRoundTrip(t *testing.T, s store.Store) {
	in := fullAuditEvent()
	requireEveryClientFieldSet(t, in, "ID")
	// Stored as given: the store checks none of the strings' meanings.
	odd := store.AuditEvent{
		Time:      auditBase,
		Principal: "anonymous",
		Action:    "cairn.v1.TokenService/CreateToken",
		RequestID: "ünïcödé ✓",
		Outcome:   "not-an-outcome",
		Code:      "",
	}

	var stored []store.AuditEvent
	for _, e := range []store.AuditEvent{in, odd, in} {
		got := appendAudit(t, s, e)
		want := e
		want.ID = got.ID
		want.Time = e.Time.Truncate(time.Microsecond).UTC()
		require.Equal(t, want, got)
		if len(stored) > 0 {
			require.Greater(t, got.ID, stored[len(stored)-1].ID, "IDs increase")
		} else {
			require.Positive(t, got.ID)
		}
		stored = append(stored, got)
	}
	require.Equal(t, fullAuditEvent(), in, "appending leaves the caller's event alone")

	slices.Reverse(stored)
	require.Equal(t, stored, listAudit(t, s, store.AuditFilter{}))
}

// testAuditBoundsStrings appends what a caller without a token could make
// an event of: a megabyte target with newlines in it (once a row too large
// for PostgreSQL's index), a principal with terminal escapes, a request id
// of invalid UTF-8.
func testAuditBoundsStrings(t *testing.T, s store.Store) {
	in := fullAuditEvent()
	in.Target = "services/orders\nforged: yes\n" + strings.Repeat("x", 1<<20)
	in.Principal = "user:default/\x1b[2Jjane"
	in.RequestID = "req-\xff\x00"

	got := appendAudit(t, s, in)
	require.Equal(t, in.Bounded().Target, got.Target)
	require.True(t, strings.HasPrefix(got.Target, `services/orders\nforged: yes\nxxx`), got.Target)
	require.True(t, strings.HasSuffix(got.Target, fmt.Sprintf("…[truncated from %d bytes]", len(in.Target))), got.Target)
	require.LessOrEqual(t, len(got.Target), store.MaxAuditFieldBytes)
	require.Equal(t, `user:default/\x1b[2Jjane`, got.Principal)
	require.Equal(t, `req-\xff\x00`, got.RequestID)
	require.Equal(t, in.Action, got.Action)

	// The detail has a limit of its own, larger than the others'.
	in = fullAuditEvent()
	in.Detail = "rollback of production to " + strings.Repeat("v", 4096) + "\n"
	detailed := appendAudit(t, s, in)
	require.Equal(t, in.Bounded().Detail, detailed.Detail)
	require.Greater(t, len(detailed.Detail), store.MaxAuditFieldBytes)
	require.LessOrEqual(t, len(detailed.Detail), store.MaxAuditDetailBytes)
	require.True(t, strings.HasSuffix(detailed.Detail, fmt.Sprintf("…[truncated from %d bytes]", len(in.Detail))), detailed.Detail)

	require.Equal(t, []store.AuditEvent{got}, listAudit(t, s, store.AuditFilter{Target: got.Target}), "listed as stored")
}

func testAuditNewestFirst(t *testing.T, s store.Store) {
	// Times out of order: the listing orders by ID, the order of appending.
	var want []store.AuditEvent
	for i, minutes := range []time.Duration{5, 0, 9, 3} {
		e := fullAuditEvent()
		e.Time = auditBase.Add(minutes * time.Minute)
		e.RequestID = fmt.Sprintf("req-%d", i)
		want = append(want, appendAudit(t, s, e))
	}
	slices.Reverse(want)

	require.Equal(t, want, listAudit(t, s, store.AuditFilter{}))
}

func testAuditPagination(t *testing.T, s store.Store) {
	const total, pageSize = 25, 10
	want := make([]int64, total)
	for i := range total {
		e := fullAuditEvent()
		e.RequestID = fmt.Sprintf("req-%02d", i)
		want[total-1-i] = appendAudit(t, s, e).ID
	}

	var got []int64
	var pageSizes []int
	for before := int64(0); ; {
		page, err := s.ListAuditEvents(t.Context(), store.AuditFilter{}, before, pageSize)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.Less(t, len(pageSizes), total, "listing does not end")
		pageSizes = append(pageSizes, len(page))
		got = append(got, auditIDs(page)...)
		before = page[len(page)-1].ID
	}
	require.Equal(t, []int{10, 10, 5}, pageSizes)
	require.Equal(t, want, got)

	page, err := s.ListAuditEvents(t.Context(), store.AuditFilter{}, want[0]+1000, 100)
	require.NoError(t, err)
	require.Equal(t, want, auditIDs(page), "before every ID")
}

func testAuditNonPositiveLimit(t *testing.T, s store.Store) {
	appendAudit(t, s, fullAuditEvent())
	for _, limit := range []int{0, -1} {
		page, err := s.ListAuditEvents(t.Context(), store.AuditFilter{}, 0, limit)
		require.NoError(t, err)
		require.Empty(t, page, "limit %d", limit)
	}
}

func testAuditFilters(t *testing.T, s store.Store) {
	const (
		register = "cairn.v1.CatalogService/RegisterService"
		remove   = "cairn.v1.CatalogService/DeleteService"
		token    = "cairn.v1.TokenService/CreateToken"
		jane     = "user:default/jane"
		bob      = "user:default/bob"
		orders   = "services/orders"
		cart     = "services/cart"
	)
	minute := func(n int) time.Time { return auditBase.Add(time.Duration(n) * time.Minute) }
	// Event i happens at minute i.
	events := []store.AuditEvent{
		{Principal: jane, Action: register, Target: orders, Outcome: "succeeded", Code: "OK"},
		{Principal: bob, Action: remove, Target: orders, Outcome: "denied", Code: "PERMISSION_DENIED"},
		{Principal: jane, Action: remove, Target: cart, Outcome: "succeeded", Code: "OK"},
		{Principal: "anonymous", Action: register, Target: cart, Outcome: "denied", Code: "UNAUTHENTICATED"},
		{Principal: jane, Action: register, Target: orders, Outcome: "failed", Code: "INVALID_ARGUMENT"},
		{Principal: bob, Action: token, Outcome: "succeeded", Code: "OK"},
	}
	ids := make([]int64, len(events))
	for i, e := range events {
		e.Time = minute(i)
		e.RequestID = fmt.Sprintf("req-%d", i)
		ids[i] = appendAudit(t, s, e).ID
	}
	cet := time.FixedZone("CET", 3600)

	for _, tc := range []struct {
		name   string
		filter store.AuditFilter
		before int // the index of the event to list below; -1: from the newest
		want   []int
	}{
		{"NoFilterMatchesAll", store.AuditFilter{}, -1, []int{5, 4, 3, 2, 1, 0}},
		{"ByPrincipal", store.AuditFilter{Principal: jane}, -1, []int{4, 2, 0}},
		{"ByAction", store.AuditFilter{Action: remove}, -1, []int{2, 1}},
		{"ByTarget", store.AuditFilter{Target: orders}, -1, []int{4, 1, 0}},
		{"ByOutcome", store.AuditFilter{Outcome: "denied"}, -1, []int{3, 1}},
		{"ByStartInclusive", store.AuditFilter{Start: minute(3)}, -1, []int{5, 4, 3}},
		{"ByEndExclusive", store.AuditFilter{End: minute(2)}, -1, []int{1, 0}},
		{"ByStartAndEnd", store.AuditFilter{Start: minute(1), End: minute(4)}, -1, []int{3, 2, 1}},
		{"ByStartAndEndInAnotherZone", store.AuditFilter{Start: minute(1).In(cet), End: minute(4).In(cet)}, -1, []int{3, 2, 1}},
		{"ByStartJustAfterAnEvent", store.AuditFilter{Start: minute(3).Add(time.Nanosecond)}, -1, []int{5, 4}},
		{"ByEndJustAfterAnEvent", store.AuditFilter{End: minute(2).Add(time.Nanosecond)}, -1, []int{2, 1, 0}},
		{"ByEmptyWindow", store.AuditFilter{Start: minute(2), End: minute(2)}, -1, nil},
		{"ByPrincipalAndOutcome", store.AuditFilter{Principal: jane, Outcome: "succeeded"}, -1, []int{2, 0}},
		{"ByTargetAndAction", store.AuditFilter{Target: orders, Action: register}, -1, []int{4, 0}},
		{"ByPrincipalAndTarget", store.AuditFilter{Principal: jane, Target: cart}, -1, []int{2}},
		{"ByActionAndOutcome", store.AuditFilter{Action: register, Outcome: "denied"}, -1, []int{3}},
		{"ByTargetAndStart", store.AuditFilter{Target: cart, Start: minute(3)}, -1, []int{3}},
		{"ByEveryFilter", store.AuditFilter{Principal: jane, Action: register, Target: orders, Outcome: "failed", Start: minute(4), End: minute(5)}, -1, []int{4}},
		{"ByFiltersNoEventMatchesAll", store.AuditFilter{Principal: bob, Target: cart}, -1, nil},
		{"ByUnknownPrincipal", store.AuditFilter{Principal: "user:default/nobody"}, -1, nil},
		{"ByPrincipalBeforeCursor", store.AuditFilter{Principal: jane}, 4, []int{2, 0}},
		{"ByTargetBeforeCursor", store.AuditFilter{Target: orders}, 1, []int{0}},
		{"ByOutcomeBeforeCursor", store.AuditFilter{Outcome: "succeeded"}, 5, []int{2, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before int64
			if tc.before >= 0 {
				before = ids[tc.before]
			}
			page, err := s.ListAuditEvents(t.Context(), tc.filter, before, 100)
			require.NoError(t, err)
			var want []int64
			for _, i := range tc.want {
				want = append(want, ids[i])
			}
			require.Equal(t, want, auditIDs(page))
		})
	}
}

func testConcurrentAuditAppends(t *testing.T, s store.Store) {
	const perWriter = 10
	appended := make([][]store.AuditEvent, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for j := range perWriter {
				e := fullAuditEvent()
				e.RequestID = fmt.Sprintf("req-%02d-%d", i, j)
				stored, err := s.AppendAuditEvent(t.Context(), e)
				if err != nil {
					errs[i] = err
					return
				}
				appended[i] = append(appended[i], stored)
			}
		})
	}
	wg.Wait()

	var all []store.AuditEvent
	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
		for j := 1; j < perWriter; j++ {
			require.Greater(t, appended[i][j].ID, appended[i][j-1].ID, "writer %d: IDs do not increase", i)
		}
		all = append(all, appended[i]...)
	}
	slices.SortFunc(all, func(a, b store.AuditEvent) int { return cmp.Compare(b.ID, a.ID) })
	for i := 1; i < len(all); i++ {
		require.NotEqual(t, all[i-1].ID, all[i].ID, "two events got one ID")
	}
	require.Equal(t, all, listAudit(t, s, store.AuditFilter{}), "the listing holds every event appended, newest first")
}

func testAuditEventsSurviveMigrateAgain(t *testing.T, s store.Store) {
	first := appendAudit(t, s, fullAuditEvent())

	require.NoError(t, s.Migrate(t.Context()))
	require.NoError(t, s.Migrate(t.Context()))

	require.Equal(t, []store.AuditEvent{first}, listAudit(t, s, store.AuditFilter{}))
	second := appendAudit(t, s, fullAuditEvent())
	require.Greater(t, second.ID, first.ID)
}

// appendAudit appends e, failing the test on error.
func appendAudit(t *testing.T, s store.Store, e store.AuditEvent) store.AuditEvent {
	t.Helper()
	stored, err := s.AppendAuditEvent(t.Context(), e)
	require.NoError(t, err)
	return stored
}

// listAudit lists all the events filter matches.
func listAudit(t *testing.T, s store.Store, filter store.AuditFilter) []store.AuditEvent {
	t.Helper()
	events, err := s.ListAuditEvents(t.Context(), filter, 0, 1000)
	require.NoError(t, err)
	return events
}

// auditIDs is the events' IDs, nil when there are none.
func auditIDs(events []store.AuditEvent) []int64 {
	var out []int64
	for _, e := range events {
		out = append(out, e.ID)
	}
	return out
}
