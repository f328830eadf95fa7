package sqlstore

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/store/internal/migrations"
)

// Migrate implements store.Store: it applies the migrations the database
// has not had yet, in version order, each in its own transaction. Running
// it again is a no-op, and so is running it while another process does:
// each transaction holds the migration lock (see LockMigrations), and
// checks under it whether its migration is applied.
func (s *Store) Migrate(ctx context.Context) error {
	known, err := migrations.Read(s.d.Migrations())
	if err != nil {
		return fmt.Errorf("%s: migrate: %w", s.d.Name(), err)
	}
	if err := s.inMigrationTx(ctx, func(x Executor) error { return x.CreateMigrationsTable(ctx) }); err != nil {
		return s.failed("migrate", err)
	}
	for _, m := range known {
		err := s.inMigrationTx(ctx, func(x Executor) error {
			applied, err := x.MigrationApplied(ctx, m.Version)
			if err != nil || applied {
				return err
			}
			return x.ApplyMigration(ctx, m)
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
		if err := x.LockMigrations(ctx); err != nil {
			return err
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
	applied, err := s.d.AppliedMigrations(ctx)
	if err != nil {
		return s.failed("check schema", err)
	}
	if err := migrations.Check(known, applied); err != nil {
		return fmt.Errorf("%s: check schema: %w", s.d.Name(), err)
	}
	return nil
}
