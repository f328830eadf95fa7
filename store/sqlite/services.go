package sqlite

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

func (e *executor) GetService(ctx context.Context, name string) (*store.Service, error) {
	return fromRow(e.q.GetService(ctx, name))
}

// LockService is GetService: the transaction holds the write lock (see dsn).
func (e *executor) LockService(ctx context.Context, name string) (*store.Service, error) {
	return e.GetService(ctx, name)
}

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
	for _, tag := range tags {
		if err := e.q.InsertServiceTag(ctx, dbsqlc.InsertServiceTagParams{ServiceName: name, Tag: tag}); err != nil {
			return err
		}
	}
	return nil
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
	return e.q.RetireService(ctx, dbsqlc.RetireServiceParams{Name: name, Team: team, RetireTime: at.UnixMicro()})
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
