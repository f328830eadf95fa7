package sqlite

import (
	"database/sql"
	"errors"

	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// errorClasses tells what SQLite's errors mean (see sqlstore.Errors): one
// that says the database cannot serve now (another writer holds the lock
// past the busy timeout, the disk fails or is full, the file cannot be
// opened) is an outage, as PostgreSQL's are; a unique key taken is a
// conflict. Anything else, such as another constraint or a malformed
// statement, is a bug.
type errorClasses struct{}

func (errorClasses) IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func (errorClasses) IsUnavailable(err error) bool {
	code, ok := resultCode(err)
	if !ok {
		return false
	}
	switch code & 0xff { // the primary code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}

func (errorClasses) IsConflict(err error) bool {
	code, ok := resultCode(err)
	return ok && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// resultCode is the result code (extended ones included) of an error of
// SQLite's.
func resultCode(err error) (int, bool) {
	sqliteErr, ok := errors.AsType[*modernc.Error](err)
	if !ok {
		return 0, false
	}
	return sqliteErr.Code(), true
}
