package auditlog

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestNewQueryKeepsFilterValues(t *testing.T) {
	start := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
	end := start.Add(time.Hour)
	filter := store.AuditFilter{Principal: "user:default/jane", Action: "cairn.v1.CatalogService/DeleteService", Target: "services/orders", Outcome: "denied", Start: start, End: end}

	require.Equal(t, Query{AuditFilter: filter, Before: 42, Limit: 10}, NewQuery(filter, 42, 10))
}

func TestNewQueryListsFromTheNewestWithoutCursor(t *testing.T) {
	for _, before := range []int64{0, -1, math.MinInt64} {
		require.Equal(t, int64(math.MaxInt64), NewQuery(store.AuditFilter{}, before, 10).Before, "before %d", before)
	}
}

func TestNewQueryLimitIsNeverNegative(t *testing.T) {
	require.Zero(t, NewQuery(store.AuditFilter{}, 0, 0).Limit)
	require.Zero(t, NewQuery(store.AuditFilter{}, 0, -1).Limit)
	require.Zero(t, NewQuery(store.AuditFilter{}, 0, math.MinInt).Limit)
}

func TestNewQueryRoundsTimesUpToMicroseconds(t *testing.T) {
	at := time.Date(2031, 3, 14, 9, 0, 0, 5_000, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name     string
		in, want time.Time
	}{
		{"Zero", time.Time{}, time.Time{}},
		{"WholeMicrosecond", at, at},
		{"OneNanosecondOver", at.Add(time.Nanosecond), at.Add(time.Microsecond)},
		{"OneNanosecondUnder", at.Add(-time.Nanosecond), at},
		{"BeforeTheEpoch", time.Unix(-1, 1), time.Unix(-1, 1_000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQuery(store.AuditFilter{Start: tc.in, End: tc.in}, 0, 10)
			require.True(t, tc.want.Equal(q.Start), "start %v, want %v", q.Start, tc.want)
			require.True(t, tc.want.Equal(q.End), "end %v, want %v", q.End, tc.want)
			require.Equal(t, tc.in.IsZero(), q.Start.IsZero())
		})
	}
}
