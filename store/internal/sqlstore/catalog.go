package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
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
	err := s.inTx(ctx, func(x Executor) error {
		var err error
		stored, created, err = s.upsertService(ctx, x, svc, ifMatch)
		if errors.Is(err, errNameTaken) {
			// The insert that found the name taken locked the row that
			// took it, which a second try therefore finds: as an update,
			// it cannot find the name taken again.
			stored, created, err = s.upsertService(ctx, x, svc, ifMatch)
		}
		return err
	})
	if err != nil {
		return nil, false, s.failedOn(svc.Name, fmt.Sprintf("upsert service %q", svc.Name), err)
	}
	return stored, created, nil
}

// upsertService is one try of UpsertService, in a transaction. It locks the
// stored service, if any, so that concurrent writes of it take turns
// between its checks and its write. A service that does not exist yet has
// no row to lock: when another transaction inserts it first, it returns
// errNameTaken.
func (s *Store) upsertService(ctx context.Context, x Executor, svc *store.Service, ifMatch string) (*store.Service, bool, error) {
	existing, err := s.serviceOrNil(x.LockService(ctx, svc.Name))
	if err != nil {
		return nil, false, err
	}
	if err := store.CheckIfMatch(ifMatch, existing); err != nil {
		return nil, false, err
	}
	if existing != nil && store.SameContent(existing, svc) {
		return existing, false, nil
	}
	stored, err := s.writeService(ctx, x, svc, existing != nil, time.Now())
	if err != nil {
		return nil, false, err
	}
	if existing == nil {
		if err := s.takeRetiredName(ctx, x, svc.Name, svc.Team); err != nil {
			return nil, false, err
		}
	}
	return stored, existing == nil, nil
}

// GetService implements store.CatalogStore.
func (s *Store) GetService(ctx context.Context, name string) (*store.Service, error) {
	svc, err := s.d.GetService(ctx, name)
	err = s.notFound(err)
	if err != nil {
		return nil, s.failedOn(name, fmt.Sprintf("get service %q", name), err)
	}
	return svc, nil
}

// ListServices implements store.CatalogStore.
func (s *Store) ListServices(ctx context.Context, filter store.ServiceFilter, after string, limit int) ([]*store.Service, error) {
	// SQLite reads a negative LIMIT as no limit at all; PostgreSQL rejects it.
	services, err := s.d.ListServices(ctx, filter, after, int64(max(limit, 0)))
	if err != nil {
		return nil, s.failed("list services", err)
	}
	return services, nil
}

// DeleteService implements store.CatalogStore.
func (s *Store) DeleteService(ctx context.Context, name, ifMatch string) error {
	err := s.inTx(ctx, func(x Executor) error {
		existing, err := s.serviceOrNil(x.LockService(ctx, name))
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
		if err := x.DeleteService(ctx, name); err != nil {
			return err
		}
		return x.RetireService(ctx, name, existing.Team, time.Now())
	})
	if err != nil {
		return s.failedOn(name, fmt.Sprintf("delete service %q", name), err)
	}
	return nil
}

// ReleaseRetiredName implements store.CatalogStore.
func (s *Store) ReleaseRetiredName(ctx context.Context, name, team string) error {
	err := s.inTx(ctx, func(x Executor) error {
		holder, err := x.GetRetiredService(ctx, name)
		err = s.notFound(err)
		switch {
		case err != nil:
			return err
		case holder != team:
			return fmt.Errorf("%w: retired by team %q", store.ErrConflict, holder)
		}
		return x.DeleteRetiredService(ctx, name)
	})
	if err != nil {
		return s.failed(fmt.Sprintf("release retired name %q", name), err)
	}
	return nil
}

// takeRetiredName lets team keep the service of name it has just inserted:
// a name it retired is its own again, one another team retired is a
// *store.NameHeldError. It reads after the insert, which waits for a
// concurrent delete of the name to end, so that it sees the name that
// delete retires.
func (s *Store) takeRetiredName(ctx context.Context, x Executor, name, team string) error {
	holder, err := x.GetRetiredService(ctx, name)
	switch {
	case s.d.IsNoRows(err):
		return nil
	case err != nil:
		return err
	case holder != team:
		return &store.NameHeldError{Name: name, Team: holder, Retired: true}
	}
	return x.DeleteRetiredService(ctx, name)
}

// ListTeams implements store.CatalogStore. Services without a team belong
// to none: the empty team never sorts after `after`.
func (s *Store) ListTeams(ctx context.Context, after string, limit int) ([]store.Team, error) {
	teams, err := s.d.ListTeams(ctx, after, int64(max(limit, 0)))
	if err != nil {
		return nil, s.failed("list teams", err)
	}
	return teams, nil
}

// serviceOrNil is the service GetService or LockService read, or nil when
// there is none.
func (s *Store) serviceOrNil(svc *store.Service, err error) (*store.Service, error) {
	if s.d.IsNoRows(err) {
		return nil, nil
	}
	return svc, err
}

// writeService inserts svc stamped at now or, when replace is set, replaces
// the stored service of its name, keeping its create time; it keeps the tag
// rows in step and returns the service as stored. An insert that finds the
// name taken returns errNameTaken.
func (s *Store) writeService(ctx context.Context, x Executor, svc *store.Service, replace bool, now time.Time) (*store.Service, error) {
	stored, err := x.WriteService(ctx, svc, replace, now)
	if s.d.IsNoRows(err) {
		return nil, errNameTaken
	}
	if err != nil {
		return nil, err
	}
	if err := x.ReplaceServiceTags(ctx, svc.Name, svc.Tags); err != nil {
		return nil, err
	}
	return stored, nil
}

// createServiceIfMissing inserts svc, stamped at now, as writeService does,
// unless the catalog holds a service of its name already, which it leaves
// as it is (and locked until the transaction ends): a *store.NameHeldError
// when another team holds it, in the catalog or retired. The insert itself
// finds the name taken, even by a transaction that has not committed yet:
// it waits for that one to end.
func (s *Store) createServiceIfMissing(ctx context.Context, x Executor, svc *store.Service, now time.Time) error {
	_, err := s.writeService(ctx, x, svc, false, now)
	if errors.Is(err, errNameTaken) {
		existing, err := s.serviceOrNil(x.LockService(ctx, svc.Name))
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
	return s.takeRetiredName(ctx, x, svc.Name, svc.Team)
}
