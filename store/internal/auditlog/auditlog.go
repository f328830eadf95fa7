// Package auditlog prepares the arguments of store.AuditStore's listing for
// the engines' queries, so that every engine bounds, pages and limits the
// listing alike.
package auditlog

import (
	"math"
	"time"

	"github.com/cairn-dev/cairn/store"
)

// Query is a ListAuditEvents call as the engines' queries take it. The
// filter's empty strings and zero times still match every event.
type Query struct {
	// store.AuditFilter, its Start and End rounded up to whole
	// microseconds: events are stored to the microsecond, and compare with
	// the rounded bound as they would with the exact one.
	store.AuditFilter
	// Before is above the ID of every event listed: math.MaxInt64, above
	// every ID, to list from the newest.
	Before int64
	// Limit is the most events to list, never negative: SQLite reads a
	// negative LIMIT as no limit at all, and PostgreSQL rejects it.
	Limit int64
}

// NewQuery is the query of ListAuditEvents(filter, before, limit).
func NewQuery(filter store.AuditFilter, before int64, limit int) Query {
	if before <= 0 {
		before = math.MaxInt64
	}
	filter.Start = ceilMicro(filter.Start)
	filter.End = ceilMicro(filter.End)
	return Query{AuditFilter: filter, Before: before, Limit: int64(max(limit, 0))}
}

// ceilMicro rounds t up to a whole microsecond. The zero time stays zero.
func ceilMicro(t time.Time) time.Time {
	whole := t.Truncate(time.Microsecond)
	if whole.Before(t) {
		whole = whole.Add(time.Microsecond)
	}
	return whole
}
