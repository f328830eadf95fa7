package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/billing"
)

// ReplaceBilling implements store.BillingStore. Its one transaction writes
// the rows in batches, reading the next batch while one is written. A
// month's rows imported before are deleted when its first row comes,
// before the batch that holds it is written. (On SQLite the transaction
// holds the write lock for the whole import, so that other writers wait
// for it, for up to the busy timeout.)
func (s *Store) ReplaceBilling(ctx context.Context, source string, rows iter.Seq2[store.BillingRow, error]) (store.BillingImport, error) {
	var summary store.BillingImport
	err := s.inTx(ctx, func(x Executor) error {
		w := &billingWriter{ctx: ctx, x: x, errs: s.d, source: source, importedAt: time.Now(), monthIDs: make(map[string]int64)}
		var err error
		summary, err = billing.Import(rows, s.d.BillingBatchRows(), w.write)
		return err
	})
	if readErr, ok := errors.AsType[*billing.ReadError](err); ok {
		// The caller's error, as it is: were it a network error of the
		// caller's, it would not make the store unavailable.
		return store.BillingImport{}, fmt.Errorf("%s: replace billing from %q: %w", s.d.Name(), source, readErr.Err)
	}
	if err != nil {
		return store.BillingImport{}, s.failed(fmt.Sprintf("replace billing from %q", source), err)
	}
	return summary, nil
}

// billingWriter writes the batches of one import in its transaction.
type billingWriter struct {
	ctx        context.Context
	x          Executor
	errs       Errors
	source     string
	importedAt time.Time
	monthIDs   map[string]int64 // the ids of the months replaced so far
}

func (w *billingWriter) write(b *billing.Batch) error {
	for _, month := range b.NewMonths {
		if err := w.replaceMonth(month, b.Currency); err != nil {
			return err
		}
	}
	return w.x.InsertBilling(w.ctx, b, w.monthIDs)
}

// replaceMonth deletes what the source imported for month before, and
// records that the import replaces it, under a new id (on PostgreSQL, the
// BRIN index on the charges' month ids then tells the rows it copies from
// those deleted).
func (w *billingWriter) replaceMonth(month, currency string) error {
	old, err := w.x.DeleteBillingMonth(w.ctx, w.source, month)
	switch {
	case err == nil:
		if err := w.x.DeleteBillingMonthRows(w.ctx, old); err != nil {
			return err
		}
	case !w.errs.IsNoRows(err):
		return err
	}
	id, err := w.x.InsertBillingMonth(w.ctx, w.source, month, currency, w.importedAt)
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
	rows, err := s.d.ServiceBilling(ctx, service, months)
	if err != nil {
		return nil, s.failed(fmt.Sprintf("billing of %q in %v", service, months), err)
	}
	billed := make(map[string][]store.BilledResource, len(months))
	for _, row := range rows {
		billed[row.Month] = append(billed[row.Month], row.BilledResource)
	}
	return billed, nil
}

// LastBillingImport implements store.BillingStore.
func (s *Store) LastBillingImport(ctx context.Context) (time.Time, error) {
	at, err := s.d.LastBillingImport(ctx)
	if s.d.IsNoRows(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, s.failed("last billing import", err)
	}
	return at, nil
}

// DailyBilling implements store.BillingStore.
func (s *Store) DailyBilling(ctx context.Context, services []string, from, to time.Time) ([]store.DailyCost, error) {
	if len(services) == 0 {
		return nil, nil
	}
	days, err := s.d.DailyBilling(ctx, services, from, to)
	if err != nil {
		return nil, s.failed(fmt.Sprintf("daily billing of %d services", len(services)), err)
	}
	return days, nil
}
