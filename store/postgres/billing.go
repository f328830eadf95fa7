package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/billing"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// billingBatchRows is how many rows of an import one COPY sends, while the
// next are read (see billing.Import).
const billingBatchRows = 10_000

// ReplaceBilling implements store.BillingStore. Its one transaction copies
// the rows in batches, with COPY, reading the next batch while one is
// copied. A month's rows imported before are deleted when its first row
// comes, before the batch that holds it is copied.
func (s *Store) ReplaceBilling(ctx context.Context, source string, rows iter.Seq2[store.BillingRow, error]) (store.BillingImport, error) {
	var summary store.BillingImport
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		w := &billingWriter{
			ctx: ctx, tx: tx, q: s.queries.WithTx(tx), source: source,
			importedAt: time.Now().Truncate(time.Microsecond), monthIDs: make(map[string]int64),
		}
		var err error
		summary, err = billing.Import(rows, billingBatchRows, w.write)
		return err
	})
	if readErr, ok := errors.AsType[*billing.ReadError](err); ok {
		// The caller's error, as it is: were it a network error of the
		// caller's, it would not make the store unavailable.
		return store.BillingImport{}, fmt.Errorf("postgres: replace billing from %q: %w", source, readErr.Err)
	}
	if err != nil {
		return store.BillingImport{}, failed(fmt.Sprintf("replace billing from %q", source), err)
	}
	return summary, nil
}

// billingWriter writes the batches of one import in its transaction.
type billingWriter struct {
	ctx        context.Context
	tx         pgx.Tx
	q          *dbsqlc.Queries
	source     string
	importedAt time.Time
	monthIDs   map[string]int64 // the ids of the months replaced so far
	copyBuf    []byte           // reused from batch to batch
}

func (w *billingWriter) write(b *billing.Batch) error {
	for _, month := range b.NewMonths {
		if err := w.replaceMonth(month, b.Currency); err != nil {
			return err
		}
	}
	if len(b.Rows) > 0 {
		w.copyBuf = w.appendCharges(w.copyBuf[:0], b.Rows)
		if _, err := w.tx.Conn().PgConn().CopyFrom(w.ctx, bytes.NewReader(w.copyBuf), copyCharges); err != nil {
			return err
		}
	}
	if len(b.Resources) > 0 {
		resources := make([]dbsqlc.CopyBillingResourceCostsParams, 0, len(b.Resources))
		for _, c := range b.Resources {
			resources = append(resources, dbsqlc.CopyBillingResourceCostsParams{
				MonthID: w.monthIDs[c.Month], Month: c.Month, Service: c.Service, ResourceID: c.ResourceID,
				ServiceCategory: c.ServiceCategory, Currency: b.Currency, EffectiveCost: c.EffectiveCost,
			})
		}
		if _, err := w.q.CopyBillingResourceCosts(w.ctx, resources); err != nil {
			return err
		}
	}
	if len(b.Days) > 0 {
		days := make([]dbsqlc.CopyBillingDailyCostsParams, 0, len(b.Days))
		for _, c := range b.Days {
			days = append(days, dbsqlc.CopyBillingDailyCostsParams{
				MonthID: w.monthIDs[c.Month], Service: c.Service, Day: c.Day, EffectiveCost: c.EffectiveCost,
			})
		}
		if _, err := w.q.CopyBillingDailyCosts(w.ctx, days); err != nil {
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
func (w *billingWriter) appendCharges(buf []byte, rows []billing.Row) []byte {
	buf = append(buf, copySignature...)
	for i := range rows {
		r := &rows[i]
		buf = binary.BigEndian.AppendUint16(buf, 12) // columns
		buf = appendInt8(buf, w.monthIDs[r.Month])
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

// replaceMonth deletes what the source imported for month before, and
// records that the import replaces it, under a new id: the BRIN index on
// the charges' month ids then tells the rows it copies from those deleted.
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
	case !errors.Is(err, pgx.ErrNoRows):
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

// ServiceBilling implements store.BillingStore.
func (s *Store) ServiceBilling(ctx context.Context, service string, months ...string) (map[string][]store.BilledResource, error) {
	if len(months) == 0 {
		return map[string][]store.BilledResource{}, nil
	}
	rows, err := s.queries.ServiceBilling(ctx, dbsqlc.ServiceBillingParams{Service: service, Months: months})
	if err != nil {
		return nil, failed(fmt.Sprintf("billing of %q in %v", service, months), err)
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
	at, err := s.queries.LastBillingImport(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, failed("last billing import", err)
	}
	return at.UTC(), nil
}

// DailyBilling implements store.BillingStore.
func (s *Store) DailyBilling(ctx context.Context, services []string, from, to time.Time) ([]store.DailyCost, error) {
	if len(services) == 0 {
		return nil, nil
	}
	rows, err := s.queries.DailyBilling(ctx, dbsqlc.DailyBillingParams{Services: services, DayFrom: from, DayTo: to})
	if err != nil {
		return nil, failed(fmt.Sprintf("daily billing of %d services", len(services)), err)
	}
	days := make([]store.DailyCost, 0, len(rows))
	for _, row := range rows {
		days = append(days, store.DailyCost{
			Day: row.Day.UTC(), Currency: row.Currency, EffectiveCost: money.FromParts(row.CostHigh, row.CostLow),
		})
	}
	return days, nil
}
