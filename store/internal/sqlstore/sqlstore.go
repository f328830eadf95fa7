// Package sqlstore is store.Store written once, above the engines: its
// transactions, idempotency by request id, etag checks, not-found and
// conflict mapping, outage classification, paging and migration runner.
// Each engine (store/sqlite, store/postgres) gives it a Driver: its
// connection and transactions, its sqlc queries in its dialect with their
// row conversion, and what its errors mean, as River's drivers do for
// River. The conformance suite in store/storetest proves both the same.
package sqlstore

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/cairn-dev/cairn/store"
)

// Driver is an engine as the store uses it.
type Driver interface {
	// Executor runs on the connection pool, outside any transaction.
	Executor
	Errors
	// Name starts every error of the store: sqlite, postgres.
	Name() string
	// Begin starts a transaction.
	Begin(ctx context.Context) (Tx, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the connections.
	Close() error
	// Migrations holds the engine's migrations/NNNN_name.sql files.
	Migrations() fs.FS
	// MigrationSQL is the migration runner's SQL in the engine's dialect.
	MigrationSQL() MigrationSQL
	// BillingBatchRows is how many rows of an import InsertBilling is
	// given at once, while the next are read.
	BillingBatchRows() int
}

// Errors tells what an engine's errors mean.
type Errors interface {
	// IsNoRows: a query of one row read none.
	IsNoRows(err error) bool
	// IsUnavailable: the database cannot serve now (unreachable, shutting
	// down, locked past the wait, out of disk), so that callers may try
	// again later; never for a caller that gave up.
	IsUnavailable(err error) bool
	// IsConflict: a unique key is taken.
	IsConflict(err error) bool
}

// Tx is an Executor in a transaction.
type Tx interface {
	Executor
	Commit(ctx context.Context) error
	// Rollback ends the transaction unless it was committed; after Commit
	// it does nothing.
	Rollback(ctx context.Context) error
}

// Store is a store.Store on a Driver.
type Store struct {
	d Driver
}

var _ store.Store = (*Store)(nil)

// New returns the store of d.
func New(d Driver) *Store { return &Store{d: d} }

// Ping implements store.Store: every failure is ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.d.Ping(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w: %w", s.d.Name(), store.ErrUnavailable, err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error { return s.d.Close() }

// inTx runs fn in a transaction and commits it when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(x Executor) error) error {
	tx, err := s.d.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// failed annotates the error of operation op with the engine's name and
// the store's class of err (see Classify).
func (s *Store) failed(op string, err error) error {
	return fmt.Errorf("%s: %s: %w", s.d.Name(), op, Classify(s.d, err))
}

// failedOn is failed for an operation on the service name.
func (s *Store) failedOn(name, op string, err error) error {
	return &store.ResourceError{Kind: "service", Name: name, Err: s.failed(op, err)}
}

// Classify gives an engine's error the store's class, keeping it: an
// outage wraps store.ErrUnavailable, so that callers answer "try again
// later" rather than "internal error", and a unique key taken wraps
// store.ErrAlreadyExists. Anything else stays as it is.
func Classify(e Errors, err error) error {
	switch {
	case e.IsUnavailable(err):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	case e.IsConflict(err):
		return fmt.Errorf("%w: %w", store.ErrAlreadyExists, err)
	}
	return err
}

// notFound maps the error of a query of one row that read none to
// store.ErrNotFound.
func (s *Store) notFound(err error) error {
	if s.d.IsNoRows(err) {
		return store.ErrNotFound
	}
	return err
}

// ConvertRows converts the rows a query of many read, or returns its
// error: convert is given each row with a nil error.
func ConvertRows[R, T any](rows []R, err error, convert func(R, error) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	converted := make([]T, 0, len(rows))
	for _, row := range rows {
		v, err := convert(row, nil)
		if err != nil {
			return nil, err
		}
		converted = append(converted, v)
	}
	return converted, nil
}
