package sqlite

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store/internal/migrations"
)

// createMigrationsTable is the migration runner's table.
var createMigrationsTable = (&driver{}).MigrationSQL().CreateTable

// applyMigration applies m in a transaction of its own, for the tests that
// migrate part of the way.
func (s *Store) applyMigration(ctx context.Context, m migrations.Migration) error {
	tx, err := s.d.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	if err := tx.Exec(ctx, s.d.MigrationSQL().Record, m.Version, m.Name); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// OpenWithBusyTimeout is Open with another busy timeout.
func OpenWithBusyTimeout(ctx context.Context, path string, busyTimeout time.Duration) (*Store, error) {
	return open(ctx, path, busyTimeout)
}
