package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/billing"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// ReplaceBilling implements store.BillingStore. Its one transaction holds
// the write lock (see dsn) for the whole import, so that other writers
// wait for it, for up to the busy timeout. The import's rows are read while
// those before them are written (see billing.Import), many to an INSERT.
func (s *Store) ReplaceBilling(ctx context.Context, source string, rows iter.Seq2[store.BillingRow, error]) (store.BillingImport, error) {
	var summary store.BillingImport
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		w := &billingWriter{
			ctx: ctx, tx: tx, q: dbsqlc.New(tx), source: source, importedAt: time.Now().UnixMicro(),
			monthIDs: make(map[string]int64), inserts: make(map[bulkInsert]*sql.Stmt),
		}
		var err error
		summary, err = billing.Import(rows, billingBatchRows, w.write)
		return err
	})
	if err != nil {
		return store.BillingImport{}, fmt.Errorf("sqlite: replace billing from %q: %w", source, err)
	}
	return summary, nil
}

// rowsPerInsert is how many rows one INSERT of an import writes. Through
// database/sql and the driver, a statement costs some microseconds however
// many rows it has, more than SQLite takes to insert one: many to a
// statement, a row costs little more than SQLite's own work. The charges'
// 128 rows bind 1,408 variables, far below SQLite's limit of 32,766.
const rowsPerInsert = 128

// billingBatchRows is how many rows of an import are written at once, while
// the next are read: whole INSERTs of rowsPerInsert.
const billingBatchRows = 32 * rowsPerInsert

// billingWriter writes the batches of one import in its transaction.
type billingWriter struct {
	ctx        context.Context
	tx         *sql.Tx
	q          *dbsqlc.Queries
	source     string
	importedAt int64
	monthIDs   map[string]int64 // the ids of the months replaced so far
	// INSERTs prepared as first needed, closed with the transaction.
	inserts map[bulkInsert]*sql.Stmt
	args    []any // reused from INSERT to INSERT
}

func (w *billingWriter) write(b *billing.Batch) error {
	for _, month := range b.NewMonths {
		if err := w.replaceMonth(month, b.Currency); err != nil {
			return err
		}
	}
	err := w.insert(chargeColumns, len(b.Rows), func(args []any, i int) []any {
		r := &b.Rows[i]
		return append(args, w.monthIDs[r.Month], r.ChargePeriodStart.UnixMicro(), r.ChargePeriodEnd.UnixMicro(),
			r.ChargeCategory, r.Service, r.ResourceID, r.ServiceName, r.ServiceCategory,
			r.BilledCost, r.EffectiveCost, r.ListCost)
	})
	if err != nil {
		return err
	}
	err = w.insert(resourceCostColumns, len(b.Resources), func(args []any, i int) []any {
		c := &b.Resources[i]
		return append(args, w.monthIDs[c.Month], c.Month, c.Service, c.ResourceID, c.ServiceCategory, b.Currency, c.EffectiveCost)
	})
	if err != nil {
		return err
	}
	return w.insert(dailyCostColumns, len(b.Days), func(args []any, i int) []any {
		c := &b.Days[i]
		return append(args, w.monthIDs[c.Month], c.Service, c.Day.UnixMicro(), c.EffectiveCost)
	})
}

// replaceMonth deletes what the source imported for month before, and
// records that the import replaces it.
func (w *billingWriter) replaceMonth(month, currency string) error {
	old, err := w.q.DeleteBillingMonth(w.ctx, dbsqlc.DeleteBillingMonthParams{Source: w.source, Month: month})
	switch {
	case err == nil:
		for _, deleteMonth := range []func(context.Context, int64) error{
			w.q.DeleteBillingCharges, w.q.DeleteBillingResourceCosts, w.q.DeleteBillingDailyCosts,
		} {
			if err := deleteMonth(w.ctx, old); err != nil {
				return err
			}
		}
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	id, err := w.q.InsertBillingMonth(w.ctx, dbsqlc.InsertBillingMonthParams{
		Source: w.source, Month: month, Currency: currency, ImportedAt: w.importedAt,
	})
	if err != nil {
		return err
	}
	w.monthIDs[month] = id
	return nil
}

// bulkColumns are the columns of a table an import inserts into, as an
// INSERT lists them.
type bulkColumns struct {
	table   string
	columns []string
}

var (
	chargeColumns = &bulkColumns{"billing_charges", []string{
		"month_id", "charge_period_start", "charge_period_end", "charge_category", "service", "resource_id",
		"service_name", "service_category", "billed_cost", "effective_cost", "list_cost",
	}}
	resourceCostColumns = &bulkColumns{"billing_resource_costs", []string{
		"month_id", "month", "service", "resource_id", "service_category", "currency", "effective_cost",
	}}
	dailyCostColumns = &bulkColumns{"billing_daily_costs", []string{"month_id", "service", "day", "effective_cost"}}
)

// bulkInsert is an INSERT of rows rows into a table.
type bulkInsert struct {
	into *bulkColumns
	rows int
}

// insert inserts n rows into the table of cols, rowsPerInsert to an
// INSERT; values appends the values of row i, in the order of cols.
func (w *billingWriter) insert(cols *bulkColumns, n int, values func(args []any, i int) []any) error {
	for first := 0; first < n; first += rowsPerInsert {
		rows := min(rowsPerInsert, n-first)
		stmt, err := w.prepare(bulkInsert{cols, rows})
		if err != nil {
			return err
		}
		args := w.args[:0]
		for i := first; i < first+rows; i++ {
			args = values(args, i)
		}
		w.args = args
		if _, err := stmt.ExecContext(w.ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// prepare returns the INSERT of ins prepared, preparing it on first use.
// OR ROLLBACK makes a failing row end the transaction, which a failed
// import rolls back anyway, rather than the statement: SQLite then keeps no
// statement journal of the pages a many-row INSERT changes, which would
// cost the import a third of its time. Parameters are anonymous (?): SQLite finds a named or
// numbered one by a linear search, which many of them make quadratic.
func (w *billingWriter) prepare(ins bulkInsert) (*sql.Stmt, error) {
	if stmt, ok := w.inserts[ins]; ok {
		return stmt, nil
	}
	row := "(?" + strings.Repeat(", ?", len(ins.into.columns)-1) + ")"
	query := "INSERT OR ROLLBACK INTO " + ins.into.table + " (" + strings.Join(ins.into.columns, ", ") + ") VALUES " +
		row + strings.Repeat(", "+row, ins.rows-1)
	stmt, err := w.tx.PrepareContext(w.ctx, query)
	if err != nil {
		return nil, err
	}
	w.inserts[ins] = stmt
	return stmt, nil
}

// ServiceBilling implements store.BillingStore.
func (s *Store) ServiceBilling(ctx context.Context, service string, months ...string) (map[string][]store.BilledResource, error) {
	if len(months) == 0 {
		return map[string][]store.BilledResource{}, nil
	}
	rows, err := s.queries.ServiceBilling(ctx, dbsqlc.ServiceBillingParams{Service: service, Months: months})
	if err != nil {
		return nil, fmt.Errorf("sqlite: billing of %q in %v: %w", service, months, err)
	}
	billed := make(map[string][]store.BilledResource, len(months))
	for _, row := range rows {
		billed[row.Month] = append(billed[row.Month], store.BilledResource{
			ResourceID:      row.ResourceID,
			ServiceCategory: row.ServiceCategory,
			EffectiveCost:   money.FromParts(row.CostHigh, row.CostLow),
			Currency:        row.Currency,
		})
	}
	return billed, nil
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
		days = append(days, store.DailyCost{
			Day: time.UnixMicro(row.Day).UTC(), Currency: row.Currency, EffectiveCost: money.FromParts(row.CostHigh, row.CostLow),
		})
	}
	return days, nil
}
