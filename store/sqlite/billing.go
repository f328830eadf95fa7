package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/billing"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// ReplaceBilling implements store.BillingStore. Its one transaction holds
// the write lock (see dsn) for the whole import, so that other writers
// wait for it, for up to the busy timeout. Each row is one run of an
// INSERT prepared once per import (see preparedTx), on a connection with a
// larger page cache (see inImportTx).
func (s *Store) ReplaceBilling(ctx context.Context, source string, rows iter.Seq2[store.BillingRow, error]) (store.BillingImport, error) {
	var tally billing.Tally
	err := s.inImportTx(ctx, func(tx *sql.Tx) error {
		q := dbsqlc.New(newPreparedTx(tx))
		importedAt := time.Now().UnixMicro()
		for row, err := range rows {
			if err != nil {
				return err
			}
			month, first, err := tally.Add(row)
			if err != nil {
				return err
			}
			if first {
				if err := replaceBillingMonth(ctx, q, source, month, importedAt); err != nil {
					return err
				}
			}
			if err := q.InsertBillingRow(ctx, toBillingParams(source, month, row)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.BillingImport{}, fmt.Errorf("sqlite: replace billing from %q: %w", source, err)
	}
	return tally.Summary(), nil
}

// importCacheKiB is the page cache of a connection while it imports
// billing. SQLite's default, 2 MiB, cannot hold the pages of the index on
// (service, month) that a large import inserts into all over: the
// transaction spills pages to the WAL and reads them back, at a third of
// the rows per second. The cache takes memory only as pages are read.
const importCacheKiB = 64 << 10

// inImportTx runs fn in a transaction, as inTx does, on a connection of the
// pool whose page cache is importCacheKiB for the while.
func (s *Store) inImportTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var cacheSize int64
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cacheSize); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, importCacheKiB)); err != nil {
		return err
	}
	// Back to the pool's size, even when ctx is done: should that fail,
	// the connection keeps the larger cache, which costs memory only.
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = %d`, cacheSize))
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op once committed
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// replaceBillingMonth deletes the rows source imported for month before,
// and records that it imports the month now.
func replaceBillingMonth(ctx context.Context, q *dbsqlc.Queries, source, month string, importedAt int64) error {
	err := q.DeleteBillingMonth(ctx, dbsqlc.DeleteBillingMonthParams{Source: source, Month: month})
	if err != nil {
		return err
	}
	return q.RecordBillingImport(ctx, dbsqlc.RecordBillingImportParams{Source: source, Month: month, ImportedAt: importedAt})
}

// ServiceBilling implements store.BillingStore.
func (s *Store) ServiceBilling(ctx context.Context, service, month string) ([]store.BilledResource, error) {
	rows, err := s.queries.ServiceBilling(ctx, dbsqlc.ServiceBillingParams{Service: service, Month: month})
	if err != nil {
		return nil, fmt.Errorf("sqlite: billing of %q in %s: %w", service, month, err)
	}
	resources := make([]store.BilledResource, 0, len(rows))
	for _, row := range rows {
		resources = append(resources, store.BilledResource{
			ResourceID:      row.ResourceID,
			ServiceCategory: row.ServiceCategory,
			EffectiveCost:   row.EffectiveCost,
			Currency:        row.Currency,
		})
	}
	return resources, nil
}

// LastBillingImport implements store.BillingStore.
func (s *Store) LastBillingImport(ctx context.Context) (time.Time, error) {
	micros, err := s.queries.LastBillingImport(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: last billing import: %w", err)
	}
	return time.UnixMicro(micros).UTC(), nil
}

// preparedTx is a transaction, as a dbsqlc.DBTX, that prepares each
// statement it executes once and runs it again prepared: sqlc's generated
// code sends its query text on every call, which SQLite would parse and
// plan again for each of an import's rows. (sqlc's emit_prepared_queries
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

// DailyBilling implements store.BillingStore.
func (s *Store) DailyBilling(ctx context.Context, services []string, from, to time.Time) ([]store.DailyCost, error) {
	if len(services) == 0 {
		return nil, nil
	}
	rows, err := s.queries.DailyBilling(ctx, dbsqlc.DailyBillingParams{
		Services: services, DayFrom: from.UnixMicro(), DayTo: to.UnixMicro(),
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: daily billing of %d services: %w", len(services), err)
	}
	days := make([]store.DailyCost, 0, len(rows))
	for _, row := range rows {
		days = append(days, store.DailyCost{Day: time.UnixMicro(row.Day).UTC(), EffectiveCost: row.EffectiveCost})
	}
	return days, nil
}
