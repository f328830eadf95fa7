package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// errNameTaken: a service was to be inserted, but another transaction
// inserted one of the same name first.
var errNameTaken = errors.New("service name taken by a concurrent write")

// UpsertService implements store.CatalogStore.
func (s *Store) UpsertService(ctx context.Context, svc *store.Service, ifMatch string) (*store.Service, bool, error) {
	var (
		stored  *store.Service
		created bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.queries.WithTx(tx)
		var err error
		stored, created, err = upsertService(ctx, q, svc, ifMatch)
		if errors.Is(err, errNameTaken) {
			// The insert that found the name taken locked the row that
			// took it, which a second try therefore finds: as an update,
			// it cannot find the name taken again.
			stored, created, err = upsertService(ctx, q, svc, ifMatch)
		}
		return err
	})
	if err != nil {
		return nil, false, failed(fmt.Sprintf("upsert service %q", svc.Name), err)
	}
	return stored, created, nil
}

// upsertService is one try of UpsertService, in a transaction. It locks the
// stored service, if any, so that concurrent writes of it take turns
// between its checks and its write. A service that does not exist yet has
// no row to lock: when another transaction inserts it first, it returns
// errNameTaken.
func upsertService(ctx context.Context, q *dbsqlc.Queries, svc *store.Service, ifMatch string) (*store.Service, bool, error) {
	existing, err := serviceOrNil(q.LockService(ctx, svc.Name))
	if err != nil {
		return nil, false, err
	}
	if err := store.CheckIfMatch(ifMatch, existing); err != nil {
		return nil, false, err
	}
	if existing != nil && store.SameContent(existing, svc) {
		return existing, false, nil
	}
	stored, err := writeService(ctx, q, svc, existing != nil, time.Now())
	if err != nil {
		return nil, false, err
	}
	if existing == nil {
		if err := takeRetiredName(ctx, q, svc.Name, svc.Team); err != nil {
			return nil, false, err
		}
	}
	return stored, existing == nil, nil
}

// GetService implements store.CatalogStore.
func (s *Store) GetService(ctx context.Context, name string) (*store.Service, error) {
	svc, err := serviceOrNil(s.queries.GetService(ctx, name))
	if err == nil && svc == nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, failed(fmt.Sprintf("get service %q", name), err)
	}
	return svc, nil
}

// ListServices implements store.CatalogStore.
func (s *Store) ListServices(ctx context.Context, filter store.ServiceFilter, after string, limit int) ([]*store.Service, error) {
	rows, err := s.queries.ListServices(ctx, dbsqlc.ListServicesParams{
		After:      after,
		Team:       optionalString(filter.Team),
		System:     optionalString(filter.System),
		Lifecycle:  optionalString(filter.Lifecycle),
		Tag:        optionalString(filter.Tag),
		GoldenPath: optionalBool(filter.GoldenPath),
		// PostgreSQL rejects a negative LIMIT.
		MaxServices: int64(max(limit, 0)),
	})
	if err != nil {
		return nil, failed("list services", err)
	}
	services := make([]*store.Service, 0, len(rows))
	for _, row := range rows {
		svc, err := fromRow(row)
		if err != nil {
			return nil, failed("list services", err)
		}
		services = append(services, svc)
	}
	return services, nil
}

// DeleteService implements store.CatalogStore.
func (s *Store) DeleteService(ctx context.Context, name, ifMatch string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.queries.WithTx(tx)
		existing, err := serviceOrNil(q.LockService(ctx, name))
		switch {
		case err != nil:
			return err
		case existing == nil:
			return store.ErrNotFound
		}
		if err := store.CheckIfMatch(ifMatch, existing); err != nil {
			return err
		}
		// The service's tag rows go with it: ON DELETE CASCADE.
		if err := q.DeleteService(ctx, name); err != nil {
			return err
		}
		return q.RetireService(ctx, dbsqlc.RetireServiceParams{Name: name, Team: existing.Team, RetireTime: time.Now()})
	})
	if err != nil {
		return failed(fmt.Sprintf("delete service %q", name), err)
	}
	return nil
}

// ReleaseRetiredName implements store.CatalogStore.
func (s *Store) ReleaseRetiredName(ctx context.Context, name, team string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.queries.WithTx(tx)
		holder, err := q.GetRetiredService(ctx, name)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.ErrNotFound
		case err != nil:
			return err
		case holder != team:
			return fmt.Errorf("%w: retired by team %q", store.ErrConflict, holder)
		}
		_, err = q.DeleteRetiredService(ctx, name)
		return err
	})
	if err != nil {
		return failed(fmt.Sprintf("release retired name %q", name), err)
	}
	return nil
}

// takeRetiredName lets team keep the service of name it has just inserted:
// a name it retired is its own again, one another team retired is a
// *store.NameHeldError. It reads after the insert, which waits for a
// concurrent delete of the name to end, so that it sees the name that
// delete retires.
func takeRetiredName(ctx context.Context, q *dbsqlc.Queries, name, team string) error {
	holder, err := q.GetRetiredService(ctx, name)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	case holder != team:
		return &store.NameHeldError{Name: name, Team: holder, Retired: true}
	}
	_, err = q.DeleteRetiredService(ctx, name)
	return err
}

// ListTeams implements store.CatalogStore. Services without a team belong
// to none: the empty team never sorts after `after`.
func (s *Store) ListTeams(ctx context.Context, after string, limit int) ([]store.Team, error) {
	rows, err := s.queries.ListTeams(ctx, dbsqlc.ListTeamsParams{
		After:    after,
		MaxTeams: int64(max(limit, 0)),
	})
	if err != nil {
		return nil, failed("list teams", err)
	}
	teams := make([]store.Team, 0, len(rows))
	for _, row := range rows {
		teams = append(teams, store.Team{
			Name:                   row.Team,
			ServiceCount:           int(row.ServiceCount),
			GoldenPathServiceCount: int(row.GoldenPathServiceCount),
		})
	}
	return teams, nil
}

// serviceOrNil is the service GetService or LockService read, or nil when
// there is none.
func serviceOrNil(row dbsqlc.Service, err error) (*store.Service, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return fromRow(row)
}

// writeService inserts svc stamped at now or, when replace is set, replaces
// the stored service of its name, keeping its create time; it keeps the tag
// rows in step and returns the service as stored. An insert that finds the
// name taken returns errNameTaken.
func writeService(ctx context.Context, q *dbsqlc.Queries, svc *store.Service, replace bool, now time.Time) (*store.Service, error) {
	row, err := q.WriteService(ctx, toParams(svc, replace, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNameTaken
	}
	if err != nil {
		return nil, err
	}
	if err := q.DeleteServiceTags(ctx, svc.Name); err != nil {
		return nil, err
	}
	if len(svc.Tags) > 0 {
		err := q.InsertServiceTags(ctx, dbsqlc.InsertServiceTagsParams{ServiceName: svc.Name, Tags: svc.Tags})
		if err != nil {
			return nil, err
		}
	}
	return fromRow(row)
}

// createServiceIfMissing inserts svc, stamped at now, as writeService does,
// unless the catalog holds a service of its name already, which it leaves
// as it is (and locked until the transaction ends): a *store.NameHeldError
// when another team holds it, in the catalog or retired. The insert itself
// finds the name taken, even by a transaction that has not committed yet:
// it waits for that one to end.
func createServiceIfMissing(ctx context.Context, q *dbsqlc.Queries, svc *store.Service, now time.Time) error {
	_, err := writeService(ctx, q, svc, false, now)
	if errors.Is(err, errNameTaken) {
		existing, err := serviceOrNil(q.LockService(ctx, svc.Name))
		switch {
		case err != nil:
			return err
		case existing == nil:
			// Deleted by another transaction since the insert found it:
			// this call fails, and a retry finds the name settled.
			return errNameTaken
		case existing.Team != svc.Team:
			return &store.NameHeldError{Name: svc.Name, Team: existing.Team}
		}
		return nil
	}
	if err != nil {
		return err
	}
	return takeRetiredName(ctx, q, svc.Name, svc.Team)
}

// optionalString is an optional query argument: empty is NULL, which
// matches everything.
func optionalString(s string) pgtype.Text {
	return pgtype.Text{String: s, Valid: s != ""}
}

func optionalBool(b *bool) pgtype.Bool {
	if b == nil {
		return pgtype.Bool{}
	}
	return pgtype.Bool{Bool: *b, Valid: true}
}
