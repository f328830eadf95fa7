package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cairn-dev/cairn/store"
)

// classify gives an error of SQLite the store's class, keeping it: one that
// says the database cannot serve now (another writer holds the lock past
// the busy timeout, the disk fails or is full, the file cannot be opened)
// wraps store.ErrUnavailable, so that callers answer "try again later", as
// PostgreSQL's outages do; a unique key taken wraps store.ErrAlreadyExists.
// Anything else, such as another constraint or a malformed statement, is a
// bug and stays as it is.
func classify(err error) error {
	var sqliteErr *modernc.Error
	if !errors.As(err, &sqliteErr) {
		return err
	}
	switch code := sqliteErr.Code(); {
	case unavailableCode(code):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", store.ErrAlreadyExists, err)
	}
	return err
}

// unavailableCode reports whether a result code (extended ones included)
// says the database cannot serve now.
func unavailableCode(code int) bool {
	switch code & 0xff { // the primary code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}

// classifyingConnector opens connections whose every error passes through
// classify: the one place where SQLite's errors get their class, whichever
// query, transaction or row read they come from.
type classifyingConnector struct{ driver.Connector }

// driverConn is what every connection the driver opens implements: for
// what a wrapper hides, database/sql falls back to context-free paths.
type driverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// driverStmt is what every statement the driver prepares implements.
type driverStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

func (c classifyingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, classify(err)
	}
	dc, ok := conn.(driverConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("sqlite: the driver's connection %T lacks a method Cairn uses", conn)
	}
	return classifyingConn{dc}, nil
}

type classifyingConn struct{ c driverConn }

// Unwrap lets the driver's own helpers reach the connection.
func (c classifyingConn) Unwrap() driver.Conn { return c.c }

func (c classifyingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c classifyingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.c.PrepareContext(ctx, query)
	if err != nil {
		return nil, classify(err)
	}
	ds, ok := s.(driverStmt)
	if !ok {
		s.Close()
		return nil, fmt.Errorf("sqlite: the driver's statement %T lacks a method Cairn uses", s)
	}
	return classifyingStmt{ds}, nil
}

func (c classifyingConn) Close() error { return classify(c.c.Close()) }

func (c classifyingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c classifyingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.c.BeginTx(ctx, opts)
	if err != nil {
		return nil, classify(err)
	}
	return classifyingTx{tx}, nil
}

func (c classifyingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.c.ExecContext(ctx, query, args)
	return r, classify(err)
}

func (c classifyingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.c.QueryContext(ctx, query, args)
	if err != nil {
		return nil, classify(err)
	}
	return classifyingRows{rows}, nil
}

func (c classifyingConn) Ping(ctx context.Context) error { return classify(c.c.Ping(ctx)) }

// ResetSession passes driver.ErrBadConn through as it is: database/sql
// compares it to discard the connection.
func (c classifyingConn) ResetSession(ctx context.Context) error { return c.c.ResetSession(ctx) }

func (c classifyingConn) IsValid() bool { return c.c.IsValid() }

// classifyingStmt's Exec and Query complete driver.Stmt: database/sql
// calls the Context methods.
type classifyingStmt struct{ s driverStmt }

func (s classifyingStmt) Close() error  { return classify(s.s.Close()) }
func (s classifyingStmt) NumInput() int { return s.s.NumInput() }

func (s classifyingStmt) Exec(args []driver.Value) (driver.Result, error) {
	r, err := s.s.Exec(args)
	return r, classify(err)
}

func (s classifyingStmt) Query(args []driver.Value) (driver.Rows, error) {
	rows, err := s.s.Query(args)
	if err != nil {
		return nil, classify(err)
	}
	return classifyingRows{rows}, nil
}

func (s classifyingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	r, err := s.s.ExecContext(ctx, args)
	return r, classify(err)
}

func (s classifyingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.s.QueryContext(ctx, args)
	if err != nil {
		return nil, classify(err)
	}
	return classifyingRows{rows}, nil
}

type classifyingRows struct{ driver.Rows }

// Next passes io.EOF through as it is: database/sql compares it to end the
// rows.
func (r classifyingRows) Next(dest []driver.Value) error { return classify(r.Rows.Next(dest)) }
func (r classifyingRows) Close() error                   { return classify(r.Rows.Close()) }

type classifyingTx struct{ tx driver.Tx }

func (t classifyingTx) Commit() error   { return classify(t.tx.Commit()) }
func (t classifyingTx) Rollback() error { return classify(t.tx.Rollback()) }
