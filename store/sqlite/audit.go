package sqlite

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/auditlog"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// AppendAuditEvent implements store.AuditStore. It stores e.Bounded().
func (s *Store) AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	row, err := s.queries.AppendAuditEvent(ctx, toAuditParams(e.Bounded()))
	if err != nil {
		return store.AuditEvent{}, fmt.Errorf("sqlite: append audit event: %w", err)
	}
	return fromAuditRow(row), nil
}

// ListAuditEvents implements store.AuditStore. A principal or target filter
// has the listing walk that filter's index, the principal's when both are
// set; without either, it walks the primary key.
func (s *Store) ListAuditEvents(ctx context.Context, filter store.AuditFilter, before int64, limit int) ([]store.AuditEvent, error) {
	q := auditlog.NewQuery(filter, before, limit)
	params := dbsqlc.ListAuditEventsParams{
		Before:    q.Before,
		Principal: optionalString(q.Principal),
		Action:    optionalString(q.Action),
		Target:    optionalString(q.Target),
		Outcome:   optionalString(q.Outcome),
		StartTime: optionalMicros(q.Start),
		EndTime:   optionalMicros(q.End),
		MaxEvents: q.Limit,
	}
	var (
		rows []dbsqlc.AuditEvent
		err  error
	)
	// The three queries take the same arguments: their parameters convert.
	switch {
	case q.Principal != "":
		rows, err = s.queries.ListAuditEventsOfPrincipal(ctx, dbsqlc.ListAuditEventsOfPrincipalParams(params))
	case q.Target != "":
		rows, err = s.queries.ListAuditEventsOfTarget(ctx, dbsqlc.ListAuditEventsOfTargetParams(params))
	default:
		rows, err = s.queries.ListAuditEvents(ctx, params)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit events: %w", err)
	}
	events := make([]store.AuditEvent, 0, len(rows))
	for _, row := range rows {
		events = append(events, fromAuditRow(row))
	}
	return events, nil
}
