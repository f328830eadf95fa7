package sqlite

import (
	"context"

	"github.com/cairn-dev/cairn/store/internal/migrations"
)

// applyMigration applies m in a transaction of its own, for the tests that
// migrate part of the way.
func (s *Store) applyMigration(ctx context.Context, m migrations.Migration) error {
	tx, err := s.d.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := tx.ApplyMigration(ctx, m); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
