package postgres

import (
	"context"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/auditlog"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// AppendAuditEvent implements store.AuditStore. It stores e.Bounded().
func (s *Store) AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	row, err := s.queries.AppendAuditEvent(ctx, toAuditParams(e.Bounded()))
	if err != nil {
		return store.AuditEvent{}, failed("append audit event", err)
	}
	return fromAuditRow(row), nil
}

// ListAuditEvents implements store.AuditStore.
func (s *Store) ListAuditEvents(ctx context.Context, filter store.AuditFilter, before int64, limit int) ([]store.AuditEvent, error) {
	q := auditlog.NewQuery(filter, before, limit)
	rows, err := s.queries.ListAuditEvents(ctx, dbsqlc.ListAuditEventsParams{
		Before:    q.Before,
		Principal: optionalString(q.Principal),
		Action:    optionalString(q.Action),
		Target:    optionalString(q.Target),
		Outcome:   optionalString(q.Outcome),
		StartTime: optionalTime(q.Start),
		EndTime:   optionalTime(q.End),
		MaxEvents: q.Limit,
	})
	if err != nil {
		return nil, failed("list audit events", err)
	}
	events := make([]store.AuditEvent, 0, len(rows))
	for _, row := range rows {
		events = append(events, fromAuditRow(row))
	}
	return events, nil
}
