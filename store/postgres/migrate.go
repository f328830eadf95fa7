package postgres

import (
	"context"

	"github.com/cairn-dev/cairn/store/internal/sqlstore"
)

// MigrationSQL looks the runner's table up on the search path, as the
// runner creates it. Migrating transactions hold an advisory lock, so that
// processes migrating one database at once take turns: its key, 0x636169726e
// ("cairn"), is any constant that nothing else in the database locks.
func (d *driver) MigrationSQL() sqlstore.MigrationSQL {
	return sqlstore.MigrationSQL{
		Lock: `SELECT pg_advisory_xact_lock(426836062830)`,
		CreateTable: `CREATE TABLE IF NOT EXISTS cairn_schema_migrations (
    version    integer     NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`,
		HasTable: `SELECT to_regclass('cairn_schema_migrations') IS NOT NULL`,
		Applied:  `SELECT version, name FROM cairn_schema_migrations ORDER BY version`,
		Record:   `INSERT INTO cairn_schema_migrations (version, name) VALUES ($1, $2)`,
	}
}

// Exec sends a statement without arguments as one simple query, which may
// hold several statements.
func (e *executor) Exec(ctx context.Context, query string, args ...any) error {
	_, err := e.db.Exec(ctx, query, args...)
	return err
}

func (e *executor) Query(ctx context.Context, query string, each func(scan func(...any) error) error) error {
	rows, err := e.db.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
