package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-dev/cairn/store/internal/migrations"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// The runner's own table is created outside the migrations, since it
// records them.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS cairn_schema_migrations (
    version    integer     NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrationLock is the key of the advisory lock that migrating transactions
// hold, so that processes migrating one database at once take turns. Any
// constant will do, as long as nothing else in the database locks it.
const migrationLock = 0x636169726e // "cairn"

// Migrate applies the migrations the database has not had yet, in version
// order, each in its own transaction. Running it again is a no-op, and so is
// running it while another process does.
func (s *Store) Migrate(ctx context.Context) error {
	known, err := migrations.Read(migrationFiles)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	err = s.inMigrationTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, createMigrationsTable)
		return err
	})
	if err != nil {
		return failed("migrate", err)
	}
	for _, m := range known {
		if err := s.inMigrationTx(ctx, func(tx pgx.Tx) error { return applyMigration(ctx, tx, m) }); err != nil {
			return failed("migrate "+m.String(), err)
		}
	}
	return nil
}

// inMigrationTx runs fn in a transaction that holds the migration lock.
func (s *Store) inMigrationTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		return fn(tx)
	})
}

// applyMigration applies m unless it is recorded as applied. It checks
// under the migration lock, so that two processes migrating at once cannot
// both apply it.
func applyMigration(ctx context.Context, tx pgx.Tx, m migrations.Migration) error {
	var applied bool
	err := tx.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM cairn_schema_migrations WHERE version = $1)`, m.Version,
	).Scan(&applied)
	if err != nil || applied {
		return err
	}
	// Without arguments, pgx sends the file as one simple query, which may
	// hold several statements.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return err
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO cairn_schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name,
	)
	return err
}

// CheckSchema implements store.Store. It reads the runner's table, and
// writes nothing: not even that table, which a new database lacks. It takes
// no lock: a migration in progress shows once it commits.
func (s *Store) CheckSchema(ctx context.Context) error {
	known, err := migrations.Read(migrationFiles)
	if err != nil {
		return fmt.Errorf("postgres: check schema: %w", err)
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return failed("check schema", err)
	}
	if err := migrations.Check(known, applied); err != nil {
		return fmt.Errorf("postgres: check schema: %w", err)
	}
	return nil
}

// appliedMigrations reads the migrations the runner's table records, none
// when there is no such table yet. The table is looked up on the search
// path, as the runner creates it.
func (s *Store) appliedMigrations(ctx context.Context) ([]migrations.Migration, error) {
	var hasTable bool
	err := s.pool.QueryRow(ctx, `SELECT to_regclass('cairn_schema_migrations') IS NOT NULL`).Scan(&hasTable)
	if err != nil || !hasTable {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT version, name FROM cairn_schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (migrations.Migration, error) {
		var m migrations.Migration
		err := row.Scan(&m.Version, &m.Name)
		return m, err
	})
}
