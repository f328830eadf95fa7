package postgres

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/auditlog"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

func (e *executor) AppendAuditEvent(ctx context.Context, ev store.AuditEvent) (store.AuditEvent, error) {
	return fromAuditRow(e.q.AppendAuditEvent(ctx, dbsqlc.AppendAuditEventParams(columns.AuditRow(ev))))
}

func (e *executor) ListAuditEvents(ctx context.Context, q auditlog.Query) ([]store.AuditEvent, error) {
	rows, err := e.q.ListAuditEvents(ctx, dbsqlc.ListAuditEventsParams{
		Before: q.Before, Principal: optionalString(q.Principal), Action: optionalString(q.Action),
		Target: optionalString(q.Target), Outcome: optionalString(q.Outcome), StartTime: optionalTime(q.Start),
		EndTime: optionalTime(q.End), MaxEvents: q.Limit,
	})
	return sqlstore.ConvertRows(rows, err, fromAuditRow)
}

func (e *executor) PutBudget(ctx context.Context, b store.Budget, now time.Time) (store.Budget, error) {
	return fromBudgetRow(e.q.PutBudget(ctx, dbsqlc.PutBudgetParams{
		Team: b.Team, MonthlyAmount: b.MonthlyAmount, Currency: b.Currency, UpdateTime: now.Truncate(time.Microsecond),
	}))
}

func (e *executor) GetBudget(ctx context.Context, team string) (store.Budget, error) {
	return fromBudgetRow(e.q.GetBudget(ctx, team))
}

func (e *executor) ListBudgets(ctx context.Context) ([]store.Budget, error) {
	rows, err := e.q.ListBudgets(ctx)
	return sqlstore.ConvertRows(rows, err, fromBudgetRow)
}

func (e *executor) FirstDeployments(ctx context.Context, from, to time.Time) ([]store.FirstDeployment, error) {
	rows, err := e.q.FirstDeployments(ctx, dbsqlc.FirstDeploymentsParams{FinishedFrom: from, FinishedTo: to})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.FirstDeploymentsRow, _ error) (store.FirstDeployment, error) {
		return store.FirstDeployment{Service: row.Name, CreateTime: row.CreateTime.UTC(), FirstDeployedAt: row.FirstDeployedAt.UTC()}, nil
	})
}

func (e *executor) CountServices(ctx context.Context) ([]store.TeamServiceCount, error) {
	rows, err := e.q.CountServices(ctx)
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.CountServicesRow, _ error) (store.TeamServiceCount, error) {
		return store.TeamServiceCount{Team: row.Team, GoldenPath: row.GoldenPath, Count: row.Services}, nil
	})
}

func (e *executor) CountActiveServices(ctx context.Context, from, to time.Time) ([]store.ActiveServiceCount, error) {
	rows, err := e.q.CountActiveServices(ctx, dbsqlc.CountActiveServicesParams{FinishedFrom: from, FinishedTo: to})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.CountActiveServicesRow, _ error) (store.ActiveServiceCount, error) {
		return store.ActiveServiceCount{Team: row.Team, Environment: row.Environment, Count: row.Services}, nil
	})
}
