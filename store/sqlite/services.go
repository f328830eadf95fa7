package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// UpsertService implements store.CatalogStore.
func (s *Store) UpsertService(ctx context.Context, svc *store.Service, ifMatch string) (*store.Service, bool, error) {
	var (
		stored  *store.Service
		created bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := s.queries.WithTx(tx)
		existing, err := findService(ctx, q, svc.Name)
		if err != nil {
			return err
		}
		if err := store.CheckIfMatch(ifMatch, existing); err != nil {
			return err
		}
		if existing != nil && store.SameContent(existing, svc) {
			stored = existing
			return nil
		}
		created = existing == nil
		if created {
			if err := takeRetiredName(ctx, q, svc.Name, svc.Team); err != nil {
				return err
			}
		}
		stored, err = writeService(ctx, q, svc, time.Now())
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: upsert service %q: %w", svc.Name, err)
	}
	return stored, created, nil
}

// GetService implements store.CatalogStore.
func (s *Store) GetService(ctx context.Context, name string) (*store.Service, error) {
	svc, err := findService(ctx, s.queries, name)
	if err == nil && svc == nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get service %q: %w", name, err)
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
		// SQLite reads a negative LIMIT as no limit at all.
		MaxServices: int64(max(limit, 0)),
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list services: %w", err)
	}
	services := make([]*store.Service, 0, len(rows))
	for _, row := range rows {
		svc, err := fromRow(row)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list services: %w", err)
		}
		services = append(services, svc)
	}
	return services, nil
}

// DeleteService implements store.CatalogStore.
func (s *Store) DeleteService(ctx context.Context, name, ifMatch string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := s.queries.WithTx(tx)
		existing, err := findService(ctx, q, name)
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
		return q.RetireService(ctx, dbsqlc.RetireServiceParams{Name: name, Team: existing.Team, RetireTime: time.Now().UnixMicro()})
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete service %q: %w", name, err)
	}
	return nil
}

// ReleaseRetiredName implements store.CatalogStore.
func (s *Store) ReleaseRetiredName(ctx context.Context, name, team string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := s.queries.WithTx(tx)
		holder, err := q.GetRetiredService(ctx, name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
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
		return fmt.Errorf("sqlite: release retired name %q: %w", name, err)
	}
	return nil
}

// takeRetiredName lets team insert a service of name: a name it retired is
// its own again, one another team retired is a *store.NameHeldError.
func takeRetiredName(ctx context.Context, q *dbsqlc.Queries, name, team string) error {
	holder, err := q.GetRetiredService(ctx, name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
		return nil, fmt.Errorf("sqlite: list teams: %w", err)
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

// findService returns the named service, or nil when there is none.
func findService(ctx context.Context, q *dbsqlc.Queries, name string) (*store.Service, error) {
	row, err := q.GetService(ctx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return fromRow(row)
}

// writeService inserts or replaces svc, stamped at now, keeps its tag rows in
// step, and returns it as stored. A replaced service keeps its create time.
func writeService(ctx context.Context, q *dbsqlc.Queries, svc *store.Service, now time.Time) (*store.Service, error) {
	row, err := q.UpsertService(ctx, toParams(svc, now))
	if err != nil {
		return nil, err
	}
	if err := q.DeleteServiceTags(ctx, svc.Name); err != nil {
		return nil, err
	}
	for _, tag := range svc.Tags {
		err := q.InsertServiceTag(ctx, dbsqlc.InsertServiceTagParams{ServiceName: svc.Name, Tag: tag})
		if err != nil {
			return nil, err
		}
	}
	return fromRow(row)
}

// createServiceIfMissing inserts svc, stamped at now, as writeService does,
// unless the catalog holds a service of its name already, which it leaves
// as it is: a *store.NameHeldError when another team holds it, in the
// catalog or retired. The transaction of q holds the write lock (see dsn):
// no other can insert the service between the check and the write.
func createServiceIfMissing(ctx context.Context, q *dbsqlc.Queries, svc *store.Service, now time.Time) error {
	existing, err := findService(ctx, q, svc.Name)
	switch {
	case err != nil:
		return err
	case existing != nil && existing.Team != svc.Team:
		return &store.NameHeldError{Name: svc.Name, Team: existing.Team}
	case existing != nil:
		return nil
	}
	if err := takeRetiredName(ctx, q, svc.Name, svc.Team); err != nil {
		return err
	}
	_, err = writeService(ctx, q, svc, now)
	return err
}

// optionalString is an optional query argument: empty is NULL, which
// matches everything.
func optionalString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

func optionalBool(b *bool) sql.NullBool {
	if b == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *b, Valid: true}
}
