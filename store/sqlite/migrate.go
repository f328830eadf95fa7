package sqlite

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store/internal/migrations"
)

// The runner's own table.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS cairn_schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)`

// LockMigrations does nothing: the transaction holds the write lock (see
// dsn), so that two processes migrating at once cannot both apply a
// migration.
func (e *executor) LockMigrations(context.Context) error { return nil }

func (e *executor) CreateMigrationsTable(ctx context.Context) error {
	_, err := e.db.ExecContext(ctx, createMigrationsTable)
	return err
}

func (e *executor) MigrationApplied(ctx context.Context, version int) (bool, error) {
	var applied bool
	err := e.db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM cairn_schema_migrations WHERE version = ?)`, version,
	).Scan(&applied)
	return applied, err
}

// ApplyMigration runs in a transaction: its file, of several statements,
// runs unprepared.
func (e *executor) ApplyMigration(ctx context.Context, m migrations.Migration) error {
	if _, err := e.tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	_, err := e.tx.ExecContext(ctx,
		`INSERT INTO cairn_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMicro(),
	)
	return err
}

func (e *executor) AppliedMigrations(ctx context.Context) ([]migrations.Migration, error) {
	var hasTable bool
	err := e.db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'cairn_schema_migrations')`,
	).Scan(&hasTable)
	if err != nil || !hasTable {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, `SELECT version, name FROM cairn_schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var applied []migrations.Migration
	for rows.Next() {
		var m migrations.Migration
		if err := rows.Scan(&m.Version, &m.Name); err != nil {
			return nil, err
		}
		applied = append(applied, m)
	}
	return applied, rows.Err()
}
