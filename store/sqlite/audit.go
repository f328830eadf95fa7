package sqlite

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/auditlog"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

func (e *executor) AppendAuditEvent(ctx context.Context, ev store.AuditEvent) (store.AuditEvent, error) {
	return fromAuditRow(e.q.AppendAuditEvent(ctx, dbsqlc.AppendAuditEventParams(columns.AuditRow(ev))))
}

// ListAuditEvents has a principal or target filter walk that filter's
// index, the principal's when both are set; without either, it walks the
// primary key.
func (e *executor) ListAuditEvents(ctx context.Context, q auditlog.Query) ([]store.AuditEvent, error) {
	params := dbsqlc.ListAuditEventsParams{
		Before: q.Before, Principal: optionalString(q.Principal), Action: optionalString(q.Action),
		Target: optionalString(q.Target), Outcome: optionalString(q.Outcome), StartTime: optionalMicros(q.Start),
		EndTime: optionalMicros(q.End), MaxEvents: q.Limit,
	}
	var (
		rows []dbsqlc.AuditEvent
		err  error
	)
	// The three queries take the same arguments: their parameters convert.
	switch {
	case q.Principal != "":
		rows, err = e.q.ListAuditEventsOfPrincipal(ctx, dbsqlc.ListAuditEventsOfPrincipalParams(params))
	case q.Target != "":
		rows, err = e.q.ListAuditEventsOfTarget(ctx, dbsqlc.ListAuditEventsOfTargetParams(params))
	default:
		rows, err = e.q.ListAuditEvents(ctx, params)
	}
	return sqlstore.ConvertRows(rows, err, fromAuditRow)
}

func (e *executor) PutBudget(ctx context.Context, b store.Budget, now time.Time) (store.Budget, error) {
	return fromBudgetRow(e.q.PutBudget(ctx, dbsqlc.PutBudgetParams{
		Team: b.Team, MonthlyAmount: b.MonthlyAmount, Currency: b.Currency, UpdateTime: now.UnixMicro(),
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
	rows, err := e.q.FirstDeployments(ctx, dbsqlc.FirstDeploymentsParams{FinishedFrom: from.UnixMicro(), FinishedTo: to.UnixMicro()})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.FirstDeploymentsRow, _ error) (store.FirstDeployment, error) {
		return store.FirstDeployment{Service: row.Name, CreateTime: fromMicros(row.CreateTime), FirstDeployedAt: fromMicros(row.FirstDeployedAt)}, nil
	})
}

func (e *executor) CountServices(ctx context.Context) ([]store.TeamServiceCount, error) {
	rows, err := e.q.CountServices(ctx)
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.CountServicesRow, _ error) (store.TeamServiceCount, error) {
		return store.TeamServiceCount{Team: row.Team, GoldenPath: row.GoldenPath, Count: row.Services}, nil
	})
}

func (e *executor) CountActiveServices(ctx context.Context, from, to time.Time) ([]store.ActiveServiceCount, error) {
	rows, err := e.q.CountActiveServices(ctx, dbsqlc.CountActiveServicesParams{FinishedFrom: from.UnixMicro(), FinishedTo: to.UnixMicro()})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.CountActiveServicesRow, _ error) (store.ActiveServiceCount, error) {
		return store.ActiveServiceCount{Team: row.Team, Environment: row.Environment, Count: row.Services}, nil
	})
}
