package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-dev/cairn/store/internal/migrations"
)

// MaxConns is the size of the store's connection pool.
func (s *Store) MaxConns() int32 { return s.d.pool.Config().MaxConns }

// inMigrationTx runs fn in a transaction that holds the migration lock, for
// the tests that migrate part of the way.
func (s *Store) inMigrationTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, (&driver{}).MigrationSQL().Lock); err != nil {
			return err
		}
		return fn(tx)
	})
}

// createMigrationsTable is the migration runner's table.
var createMigrationsTable = (&driver{}).MigrationSQL().CreateTable

// applyMigration applies m in tx.
func applyMigration(ctx context.Context, tx pgx.Tx, m migrations.Migration) error {
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, (&driver{}).MigrationSQL().Record, m.Version, m.Name)
	return err
}
