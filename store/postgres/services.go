package postgres

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

func (e *executor) GetService(ctx context.Context, name string) (*store.Service, error) {
	return fromRow(e.q.GetService(ctx, name))
}

// LockService reads the service FOR UPDATE.
func (e *executor) LockService(ctx context.Context, name string) (*store.Service, error) {
	return fromRow(e.q.LockService(ctx, name))
}

// WriteService's insert leaves the row that took the name locked (see
// InsertService).
func (e *executor) WriteService(ctx context.Context, svc *store.Service, replace bool, now time.Time) (*store.Service, error) {
	params := dbsqlc.UpsertServiceParams(columns.ServiceRow(svc, now))
	if replace {
		return fromRow(e.q.UpsertService(ctx, params))
	}
	// The two queries take the same arguments: their parameters convert.
	return fromRow(e.q.InsertService(ctx, dbsqlc.InsertServiceParams(params)))
}

func (e *executor) ReplaceServiceTags(ctx context.Context, name string, tags []string) error {
	if err := e.q.DeleteServiceTags(ctx, name); err != nil {
		return err
	}
	if len(tags) == 0 {
		return nil
	}
	return e.q.InsertServiceTags(ctx, dbsqlc.InsertServiceTagsParams{ServiceName: name, Tags: tags})
}

func (e *executor) ListServices(ctx context.Context, filter store.ServiceFilter, after string, limit int64) ([]*store.Service, error) {
	rows, err := e.q.ListServices(ctx, dbsqlc.ListServicesParams{
		After: after, Team: optionalString(filter.Team), System: optionalString(filter.System),
		Lifecycle: optionalString(filter.Lifecycle), Tag: optionalString(filter.Tag),
		GoldenPath: optionalBool(filter.GoldenPath), MaxServices: limit,
	})
	return sqlstore.ConvertRows(rows, err, fromRow)
}

func (e *executor) DeleteService(ctx context.Context, name string) error {
	return e.q.DeleteService(ctx, name)
}

func (e *executor) RetireService(ctx context.Context, name, team string, at time.Time) error {
	return e.q.RetireService(ctx, dbsqlc.RetireServiceParams{Name: name, Team: team, RetireTime: at})
}

func (e *executor) GetRetiredService(ctx context.Context, name string) (string, error) {
	return e.q.GetRetiredService(ctx, name)
}

func (e *executor) DeleteRetiredService(ctx context.Context, name string) error {
	_, err := e.q.DeleteRetiredService(ctx, name)
	return err
}

func (e *executor) ListTeams(ctx context.Context, after string, limit int64) ([]store.Team, error) {
	rows, err := e.q.ListTeams(ctx, dbsqlc.ListTeamsParams{After: after, MaxTeams: limit})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ListTeamsRow, _ error) (store.Team, error) {
		return store.Team{Name: row.Team, ServiceCount: int(row.ServiceCount), GoldenPathServiceCount: int(row.GoldenPathServiceCount)}, nil
	})
}
