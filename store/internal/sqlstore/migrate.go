package sqlstore

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/cairn-dev/cairn/store/internal/migrations"
)

// MigrationSQL is the migration runner's SQL in an engine's dialect. The
// runner's own table, cairn_schema_migrations, is created outside the
// migrations, since it records them.
type MigrationSQL struct {
	// Lock takes the lock on which migrating processes take turns, until
	// the transaction ends: "" where every write transaction holds the
	// database's write lock.
	Lock string
	// CreateTable creates the runner's table unless it exists.
	CreateTable string
	// HasTable reads one row: whether the runner's table exists.
	HasTable string
	// Applied reads the version and name of every migration the table
	// records, in version order.
	Applied string
	// Record records migration $1 named $2 as applied.
	Record string
}

// Migrate implements store.Store: it applies the migrations the database
// has not had yet, in version order, each in its own transaction. Running
// it again is a no-op, and so is running it while another process does:
// each transaction holds the migration lock, and checks under it whether
// its migration is applied.
func (s *Store) Migrate(ctx context.Context) error { return s.migrateBefore(ctx, math.MaxInt) }

// MigrateBefore is Migrate of the migrations below version only: it leaves
// the database as a Cairn of that schema did, for the tests that upgrade
// one. It is no method, so that the engines' stores, which embed Store, do
// not offer it.
func MigrateBefore(ctx context.Context, s *Store, version int) error {
	return s.migrateBefore(ctx, version)
}

func (s *Store) migrateBefore(ctx context.Context, version int) error {
	known, err := migrations.Read(s.d.Migrations())
	if err != nil {
		return fmt.Errorf("%s: migrate: %w", s.d.Name(), err)
	}
	q := s.d.MigrationSQL()
	if err := s.inMigrationTx(ctx, func(x Executor) error { return x.Exec(ctx, q.CreateTable) }); err != nil {
		return s.failed("migrate", err)
	}
	for _, m := range known {
		if m.Version >= version {
			break
		}
		err := s.inMigrationTx(ctx, func(x Executor) error {
			applied, err := s.appliedMigrations(ctx, x)
			isM := func(a migrations.Migration) bool { return a.Version == m.Version }
			if err != nil || slices.ContainsFunc(applied, isM) {
				return err
			}
			if err := x.Exec(ctx, m.SQL); err != nil {
				return err
			}
			return x.Exec(ctx, q.Record, m.Version, m.Name)
		})
		if err != nil {
			return s.failed("migrate "+m.String(), err)
		}
	}
	return nil
}

// inMigrationTx runs fn in a transaction that holds the migration lock.
func (s *Store) inMigrationTx(ctx context.Context, fn func(x Executor) error) error {
	return s.inTx(ctx, func(x Executor) error {
		if lock := s.d.MigrationSQL().Lock; lock != "" {
			if err := x.Exec(ctx, lock); err != nil {
				return err
			}
		}
		return fn(x)
	})
}

// CheckSchema implements store.Store. It reads the runner's table, and
// writes nothing: not even that table, which a new database lacks. It takes
// no lock: a migration in progress shows once it commits.
func (s *Store) CheckSchema(ctx context.Context) error {
	known, err := migrations.Read(s.d.Migrations())
	if err != nil {
		return fmt.Errorf("%s: check schema: %w", s.d.Name(), err)
	}
	applied, err := s.appliedMigrations(ctx, s.d)
	if err != nil {
		return s.failed("check schema", err)
	}
	if err := migrations.Check(known, applied); err != nil {
		return fmt.Errorf("%s: check schema: %w", s.d.Name(), err)
	}
	return nil
}

// appliedMigrations reads the migrations the runner's table records, none
// when there is no such table yet.
func (s *Store) appliedMigrations(ctx context.Context, x Executor) ([]migrations.Migration, error) {
	q := s.d.MigrationSQL()
	var hasTable bool
	err := x.Query(ctx, q.HasTable, func(scan func(...any) error) error { return scan(&hasTable) })
	if err != nil || !hasTable {
		return nil, err
	}
	var applied []migrations.Migration
	err = x.Query(ctx, q.Applied, func(scan func(...any) error) error {
		var m migrations.Migration
		err := scan(&m.Version, &m.Name)
		applied = append(applied, m)
		return err
	})
	return applied, err
}
