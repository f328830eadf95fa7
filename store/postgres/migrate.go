package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"

	"github.com/jackc/pgx/v5"
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
	migrations, err := readMigrations(migrationFiles)
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
	for _, m := range migrations {
		if err := s.inMigrationTx(ctx, func(tx pgx.Tx) error { return applyMigration(ctx, tx, m) }); err != nil {
			return failed(fmt.Sprintf("migrate %04d_%s", m.version, m.name), err)
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
func applyMigration(ctx context.Context, tx pgx.Tx, m migration) error {
	var applied bool
	err := tx.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM cairn_schema_migrations WHERE version = $1)`, m.version,
	).Scan(&applied)
	if err != nil || applied {
		return err
	}
	// Without arguments, pgx sends the file as one simple query, which may
	// hold several statements.
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return err
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO cairn_schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name,
	)
	return err
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
