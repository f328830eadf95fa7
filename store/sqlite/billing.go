package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/billing"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// rowsPerInsert is how many rows one INSERT of an import writes. Through
// database/sql and the driver, a statement costs some microseconds however
// many rows it has, more than SQLite takes to insert one: many to a
// statement, a row costs little more than SQLite's own work. The charges'
// 128 rows bind 1,408 variables, far below SQLite's limit of 32,766.
const rowsPerInsert = 128

// BillingBatchRows is how many rows of an import are written at once,
// while the next are read: whole INSERTs of rowsPerInsert.
func (d *driver) BillingBatchRows() int { return 32 * rowsPerInsert }

func (e *executor) DeleteBillingMonth(ctx context.Context, source, month string) (int64, error) {
	return e.q.DeleteBillingMonth(ctx, dbsqlc.DeleteBillingMonthParams{Source: source, Month: month})
}

func (e *executor) DeleteBillingMonthRows(ctx context.Context, id int64) error {
	for _, deleteMonth := range []func(context.Context, int64) error{
		e.q.DeleteBillingCharges, e.q.DeleteBillingResourceCosts, e.q.DeleteBillingDailyCosts,
	} {
		if err := deleteMonth(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (e *executor) InsertBillingMonth(ctx context.Context, source, month, currency string, importedAt time.Time) (int64, error) {
	return e.q.InsertBillingMonth(ctx, dbsqlc.InsertBillingMonthParams{
		Source: source, Month: month, Currency: currency, ImportedAt: importedAt.UnixMicro(),
	})
}

// InsertBilling writes the batch many rows to an INSERT.
func (e *executor) InsertBilling(ctx context.Context, b *billing.Batch, monthIDs map[string]int64) error {
	if e.billing == nil {
		e.billing = &billingInserts{tx: e.tx, inserts: make(map[bulkInsert]*sql.Stmt)}
	}
	w := e.billing
	err := w.insert(ctx, chargeColumns, len(b.Rows), func(args []any, i int) []any {
		r := &b.Rows[i]
		return append(args, monthIDs[r.Month], r.ChargePeriodStart.UnixMicro(), r.ChargePeriodEnd.UnixMicro(),
			r.ChargeCategory, r.Service, r.ResourceID, r.ServiceName, r.ServiceCategory,
			r.BilledCost, r.EffectiveCost, r.ListCost)
	})
	if err != nil {
		return err
	}
	err = w.insert(ctx, resourceCostColumns, len(b.Resources), func(args []any, i int) []any {
		c := &b.Resources[i]
		return append(args, monthIDs[c.Month], c.Month, c.Service, c.ResourceID, c.ServiceCategory, b.Currency, c.EffectiveCost)
	})
	if err != nil {
		return err
	}
	return w.insert(ctx, dailyCostColumns, len(b.Days), func(args []any, i int) []any {
		c := &b.Days[i]
		return append(args, monthIDs[c.Month], c.Service, c.Day.UnixMicro(), c.EffectiveCost)
	})
}

// billingInserts are the INSERTs of the imports of one transaction,
// prepared as first needed and closed with the transaction.
type billingInserts struct {
	tx      *sql.Tx
	inserts map[bulkInsert]*sql.Stmt
	args    []any // reused from INSERT to INSERT
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
func (w *billingInserts) insert(ctx context.Context, cols *bulkColumns, n int, values func(args []any, i int) []any) error {
	for first := 0; first < n; first += rowsPerInsert {
		rows := min(rowsPerInsert, n-first)
		stmt, err := w.prepare(ctx, bulkInsert{cols, rows})
		if err != nil {
			return err
		}
		args := w.args[:0]
		for i := first; i < first+rows; i++ {
			args = values(args, i)
		}
		w.args = args
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
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
func (w *billingInserts) prepare(ctx context.Context, ins bulkInsert) (*sql.Stmt, error) {
	if stmt, ok := w.inserts[ins]; ok {
		return stmt, nil
	}
	row := "(?" + strings.Repeat(", ?", len(ins.into.columns)-1) + ")"
	query := "INSERT OR ROLLBACK INTO " + ins.into.table + " (" + strings.Join(ins.into.columns, ", ") + ") VALUES " +
		row + strings.Repeat(", "+row, ins.rows-1)
	stmt, err := w.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.inserts[ins] = stmt
	return stmt, nil
}

func (e *executor) ServiceBilling(ctx context.Context, service string, months []string) ([]sqlstore.BilledRow, error) {
	rows, err := e.q.ServiceBilling(ctx, dbsqlc.ServiceBillingParams{Service: service, Months: months})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ServiceBillingRow, _ error) (sqlstore.BilledRow, error) {
		return sqlstore.BilledRow{Month: row.Month, BilledResource: store.BilledResource{
			ResourceID: row.ResourceID, ServiceCategory: row.ServiceCategory,
			EffectiveCost: money.FromParts(row.CostHigh, row.CostLow), Currency: row.Currency,
		}}, nil
	})
}

func (e *executor) LastBillingImport(ctx context.Context) (time.Time, error) {
	micros, err := e.q.LastBillingImport(ctx)
	return fromMicros(micros), err
}

func (e *executor) DailyBilling(ctx context.Context, services []string, from, to time.Time) ([]store.DailyCost, error) {
	rows, err := e.q.DailyBilling(ctx, dbsqlc.DailyBillingParams{Services: services, DayFrom: from.UnixMicro(), DayTo: to.UnixMicro()})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.DailyBillingRow, _ error) (store.DailyCost, error) {
		return store.DailyCost{Day: fromMicros(row.Day), Currency: row.Currency, EffectiveCost: money.FromParts(row.CostHigh, row.CostLow)}, nil
	})
}
