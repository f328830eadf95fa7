package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/billing"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// BillingBatchRows is how many rows of an import one COPY sends, while the
// next are read.
func (d *driver) BillingBatchRows() int { return 10_000 }

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
		Source: source, Month: month, Currency: currency, ImportedAt: importedAt.Truncate(time.Microsecond),
	})
}

// InsertBilling copies the batch with COPY.
func (e *executor) InsertBilling(ctx context.Context, b *billing.Batch, monthIDs map[string]int64) error {
	if len(b.Rows) > 0 {
		e.copyBuf = appendCharges(e.copyBuf[:0], b.Rows, monthIDs)
		if _, err := e.tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(e.copyBuf), copyCharges); err != nil {
			return err
		}
	}
	if len(b.Resources) > 0 {
		resources := make([]dbsqlc.CopyBillingResourceCostsParams, 0, len(b.Resources))
		for _, c := range b.Resources {
			resources = append(resources, dbsqlc.CopyBillingResourceCostsParams{
				MonthID: monthIDs[c.Month], Month: c.Month, Service: c.Service, ResourceID: c.ResourceID,
				ServiceCategory: c.ServiceCategory, Currency: b.Currency, EffectiveCost: c.EffectiveCost,
			})
		}
		if _, err := e.q.CopyBillingResourceCosts(ctx, resources); err != nil {
			return err
		}
	}
	if len(b.Days) > 0 {
		days := make([]dbsqlc.CopyBillingDailyCostsParams, 0, len(b.Days))
		for _, c := range b.Days {
			days = append(days, dbsqlc.CopyBillingDailyCostsParams{
				MonthID: monthIDs[c.Month], Service: c.Service, Day: c.Day, EffectiveCost: c.EffectiveCost,
			})
		}
		if _, err := e.q.CopyBillingDailyCosts(ctx, days); err != nil {
			return err
		}
	}
	return nil
}

// copyCharges copies an import's rows, which appendCharges encodes.
// sqlc's :copyfrom would send them through pgx's CopyFrom, which encodes
// each value through its type map, boxed: as much CPU per row as
// PostgreSQL's own work. The columns' types are fixed, so the rows are
// encoded here in COPY's binary format, which pgx's CopyFrom writes too.
const copyCharges = `COPY billing_charges (
    month_id, row_number, charge_period_start, charge_period_end, charge_category,
    service, resource_id, service_name, service_category,
    billed_cost, effective_cost, list_cost
) FROM STDIN (FORMAT binary)`

// copySignature starts a binary COPY, with no flags and no header
// extension (see the COPY reference, "Binary Format").
const copySignature = "PGCOPY\n\xff\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00"

// postgresEpoch is when PostgreSQL's binary timestamps count from, in Unix
// microseconds.
const postgresEpoch = 946_684_800_000_000

// appendCharges appends rows to buf as a binary COPY of copyCharges's
// columns. Times keep whole microseconds, as timestamptz does. Text is
// UTF-8, the connection's encoding, without NUL bytes (the FOCUS reader
// refuses them).
func appendCharges(buf []byte, rows []billing.Row, monthIDs map[string]int64) []byte {
	buf = append(buf, copySignature...)
	for i := range rows {
		r := &rows[i]
		buf = binary.BigEndian.AppendUint16(buf, 12) // columns
		buf = appendInt8(buf, monthIDs[r.Month])
		buf = appendInt8(buf, r.Number)
		buf = appendInt8(buf, r.ChargePeriodStart.UnixMicro()-postgresEpoch)
		buf = appendInt8(buf, r.ChargePeriodEnd.UnixMicro()-postgresEpoch)
		for _, text := range [...]string{r.ChargeCategory, r.Service, r.ResourceID, r.ServiceName, r.ServiceCategory} {
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(text)))
			buf = append(buf, text...)
		}
		buf = appendInt8(buf, r.BilledCost)
		buf = appendInt8(buf, r.EffectiveCost)
		buf = appendInt8(buf, r.ListCost)
	}
	return binary.BigEndian.AppendUint16(buf, 0xffff) // the trailer: -1 columns
}

// appendInt8 appends a bigint (or a timestamptz's microseconds) field.
func appendInt8(buf []byte, n int64) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 8)
	return binary.BigEndian.AppendUint64(buf, uint64(n))
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
	at, err := e.q.LastBillingImport(ctx)
	return at.UTC(), err
}

func (e *executor) DailyBilling(ctx context.Context, services []string, from, to time.Time) ([]store.DailyCost, error) {
	rows, err := e.q.DailyBilling(ctx, dbsqlc.DailyBillingParams{Services: services, DayFrom: from, DayTo: to})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.DailyBillingRow, _ error) (store.DailyCost, error) {
		return store.DailyCost{Day: row.Day.UTC(), Currency: row.Currency, EffectiveCost: money.FromParts(row.CostHigh, row.CostLow)}, nil
	})
}
