package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxPreparedStatements bounds the statements a preparedDB keeps. The
// queries are a fixed set, except that a query taking a list (sqlc.slice)
// has one text per list length: those past the bound run unprepared.
const maxPreparedStatements = 256

// preparedDB is the pool as a dbsqlc.DBTX that prepares each query once and
// runs it prepared from then on. sqlc's generated code sends the query text
// with every call, which SQLite would parse and plan on each: under an
// entity-page load that was a third of Cairn's CPU. database/sql prepares a
// statement on each pooled connection the first time it runs there, and
// closes it with the connection, so closing the pool closes them all.
type preparedDB struct {
	*sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newPreparedDB(db *sql.DB) *preparedDB {
	return &preparedDB{DB: db, stmts: make(map[string]*sql.Stmt)}
}

// stmt returns query prepared, or nil when the bound is reached.
func (p *preparedDB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.RLock()
	stmt, ok := p.stmts[query]
	p.mu.RUnlock()
	if ok {
		return stmt, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if stmt, ok := p.stmts[query]; ok {
		return stmt, nil
	}
	if len(p.stmts) >= maxPreparedStatements {
		return nil, nil
	}
	stmt, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.stmts[query] = stmt
	return stmt, nil
}

// ExecContext runs query prepared.
func (p *preparedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	stmt, err := p.stmt(ctx, query)
	if err != nil || stmt == nil {
		return p.DB.ExecContext(ctx, query, args...)
	}
	return stmt.ExecContext(ctx, args...)
}

// QueryContext runs query prepared.
func (p *preparedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	stmt, err := p.stmt(ctx, query)
	if err != nil || stmt == nil {
		return p.DB.QueryContext(ctx, query, args...)
	}
	return stmt.QueryContext(ctx, args...)
}

// QueryRowContext runs query prepared. A query that failed to prepare runs
// unprepared, to fail there with the same error in the *sql.Row.
func (p *preparedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	stmt, err := p.stmt(ctx, query)
	if err != nil || stmt == nil {
		return p.DB.QueryRowContext(ctx, query, args...)
	}
	return stmt.QueryRowContext(ctx, args...)
}

// preparedTx is a transaction, as a dbsqlc.DBTX, that prepares each
// statement it executes once and runs it again prepared: sqlc's generated
// code sends its query text on every call, which SQLite would parse and
// plan again on each run of a statement that a transaction runs in a loop.
// (sqlc's emit_prepared_queries
// prepares every query of the package on the pool, and hands the
// transaction a new copy of the statement on each call.) The transaction
// closes the statements when it ends.
type preparedTx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

func newPreparedTx(tx *sql.Tx) *preparedTx {
	return &preparedTx{Tx: tx, stmts: make(map[string]*sql.Stmt)}
}

// ExecContext runs query prepared, preparing it on its first run.
func (p *preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	stmt, ok := p.stmts[query]
	if !ok {
		var err error
		if stmt, err = p.Tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		p.stmts[query] = stmt
	}
	return stmt.ExecContext(ctx, args...)
}
