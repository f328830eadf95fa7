package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema change, read from migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

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
	migrations, err := readMigrations(migrationFiles)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, m := range migrations {
		if err := s.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("sqlite: migrate %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

// applyMigration applies m unless it is recorded as applied. It checks
// inside the transaction, which holds the write lock, so that two processes
// migrating at once cannot both apply it.
func (s *Store) applyMigration(ctx context.Context, m migration) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var applied bool
		err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM cairn_schema_migrations WHERE version = ?)`, m.version,
		).Scan(&applied)
		if err != nil || applied {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO cairn_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixMicro(),
		)
		return err
	})
}

// readMigrations reads the migrations in fsys's migrations directory, in
// version order. Versions must be unique.
func readMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	migrations := make([]migration, 0, len(entries))
	for _, e := range entries { // ReadDir sorts by file name, so by version
		m, err := parseMigrationName(e.Name())
		if err != nil {
			return nil, err
		}
		if n := len(migrations); n > 0 && migrations[n-1].version == m.version {
			return nil, fmt.Errorf("migration version %d used twice", m.version)
		}
		sqlText, err := fs.ReadFile(fsys, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		m.sql = string(sqlText)
		migrations = append(migrations, m)
	}
	return migrations, nil
}

var migrationFileName = regexp.MustCompile(`^(\d{4})_(\w+)\.sql$`)

// parseMigrationName reads the version and name of NNNN_name.sql.
func parseMigrationName(file string) (migration, error) {
	match := migrationFileName.FindStringSubmatch(file)
	if match == nil || match[1] == "0000" {
		return migration{}, fmt.Errorf("migration file %q is not named NNNN_name.sql, NNNN from 0001", file)
	}
	version, _ := strconv.Atoi(match[1]) // four digits always parse
	return migration{version: version, name: match[2]}, nil
}
