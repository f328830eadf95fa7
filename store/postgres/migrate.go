package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-dev/cairn/store/internal/migrations"
)

// The runner's own table.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS cairn_schema_migrations (
    version    integer     NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrationLock is the key of the advisory lock that migrating transactions
// hold, so that processes migrating one database at once take turns. Any
// constant will do, as long as nothing else in the database locks it.
const migrationLock = 0x636169726e // "cairn"

func (e *executor) LockMigrations(ctx context.Context) error {
	_, err := e.db.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock)
	return err
}

func (e *executor) CreateMigrationsTable(ctx context.Context) error {
	_, err := e.db.Exec(ctx, createMigrationsTable)
	return err
}

func (e *executor) MigrationApplied(ctx context.Context, version int) (bool, error) {
	var applied bool
	err := e.db.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM cairn_schema_migrations WHERE version = $1)`, version,
	).Scan(&applied)
	return applied, err
}

// ApplyMigration sends the file, without arguments, as one simple query,
// which may hold several statements.
func (e *executor) ApplyMigration(ctx context.Context, m migrations.Migration) error {
	if _, err := e.db.Exec(ctx, m.SQL); err != nil {
		return err
	}
	_, err := e.db.Exec(ctx,
		`INSERT INTO cairn_schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name,
	)
	return err
}

// AppliedMigrations looks the table up on the search path, as the runner
// creates it.
func (e *executor) AppliedMigrations(ctx context.Context) ([]migrations.Migration, error) {
	var hasTable bool
	err := e.db.QueryRow(ctx, `SELECT to_regclass('cairn_schema_migrations') IS NOT NULL`).Scan(&hasTable)
	if err != nil || !hasTable {
		return nil, err
	}
	rows, err := e.db.Query(ctx, `SELECT version, name FROM cairn_schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (migrations.Migration, error) {
		var m migrations.Migration
		err := row.Scan(&m.Version, &m.Name)
		return m, err
	})
}
