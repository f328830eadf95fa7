package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store/internal/migrations"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// The runner's own table is created outside the migrations, since it
// records them.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS cairn_schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)`

// Migrate applies the migrations the database has not had yet, in version
// order, each in its own transaction. Running it again is a no-op.
func (s *Store) Migrate(ctx context.Context) error {
	known, err := migrations.Read(migrationFiles)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, m := range known {
		if err := s.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", m, err)
		}
	}
	return nil
}

// applyMigration applies m unless it is recorded as applied. It checks
// inside the transaction, which holds the write lock, so that two processes
// migrating at once cannot both apply it.
func (s *Store) applyMigration(ctx context.Context, m migrations.Migration) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var applied bool
		err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM cairn_schema_migrations WHERE version = ?)`, m.Version,
		).Scan(&applied)
		if err != nil || applied {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO cairn_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().UnixMicro(),
		)
		return err
	})
}

// CheckSchema implements store.Store. It reads the runner's table, and
// writes nothing: not even that table, which a new database lacks.
func (s *Store) CheckSchema(ctx context.Context) error {
	known, err := migrations.Read(migrationFiles)
	if err != nil {
		return fmt.Errorf("sqlite: check schema: %w", err)
	}
	applied, err := s.appliedMigrations(ctx)
	if err == nil {
		err = migrations.Check(known, applied)
	}
	if err != nil {
		return fmt.Errorf("sqlite: check schema: %w", err)
	}
	return nil
}

// appliedMigrations reads the migrations the runner's table records, none
// when there is no such table yet.
func (s *Store) appliedMigrations(ctx context.Context) ([]migrations.Migration, error) {
	var hasTable bool
	err := s.db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'cairn_schema_migrations')`,
	).Scan(&hasTable)
	if err != nil || !hasTable {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT version, name FROM cairn_schema_migrations ORDER BY version`)
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
