package sqlite

import (
	"context"

	"github.com/cairn-dev/cairn/store/internal/sqlstore"
)

// MigrationSQL takes no lock: the transaction holds the write lock (see
// dsn), so that two processes migrating at once cannot both apply a
// migration.
func (d *driver) MigrationSQL() sqlstore.MigrationSQL {
	return sqlstore.MigrationSQL{
		CreateTable: `CREATE TABLE IF NOT EXISTS cairn_schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)`,
		HasTable: `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'cairn_schema_migrations')`,
		Applied:  `SELECT version, name FROM cairn_schema_migrations ORDER BY version`,
		// applied_at in unix microseconds, from the Julian day.
		Record: `INSERT INTO cairn_schema_migrations (version, name, applied_at)
VALUES (?, ?, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))`,
	}
}

// Exec runs in a transaction: a file of several statements runs
// unprepared.
func (e *executor) Exec(ctx context.Context, query string, args ...any) error {
	_, err := e.tx.ExecContext(ctx, query, args...)
	return err
}

func (e *executor) Query(ctx context.Context, query string, each func(scan func(...any) error) error) error {
	rows, err := e.db.QueryContext(ctx, query)
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
