package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/billing"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// billingBatch is the most rows ReplaceBilling copies at once.
const billingBatch = 10_000

// ReplaceBilling implements store.BillingStore. Its one transaction copies
// the rows in batches of up to billingBatch, with COPY. A month's rows are
// deleted when its first row comes, before the batch that holds it is
// copied.
func (s *Store) ReplaceBilling(ctx context.Context, source string, rows iter.Seq2[store.BillingRow, error]) (store.BillingImport, error) {
	var (
		tally   billing.Tally
		rowsErr error
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.queries.WithTx(tx)
		importedAt := time.Now().Truncate(time.Microsecond)
		var batch []dbsqlc.InsertBillingRowsParams
		for row, err := range rows {
			if err != nil {
				rowsErr = err
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
			batch = append(batch, toBillingParams(source, month, row))
			if len(batch) == billingBatch {
				if _, err := q.InsertBillingRows(ctx, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			_, err := q.InsertBillingRows(ctx, batch)
			return err
		}
		return nil
	})
	if rowsErr != nil && errors.Is(err, rowsErr) {
		// The caller's error, as it is: were it a network error of the
		// caller's, it would not make the store unavailable.
		return store.BillingImport{}, fmt.Errorf("postgres: replace billing from %q: %w", source, err)
	}
	if err != nil {
		return store.BillingImport{}, failed(fmt.Sprintf("replace billing from %q", source), err)
	}
	return tally.Summary(), nil
}

// replaceBillingMonth deletes the rows source imported for month before,
// and records that it imports the month now.
func replaceBillingMonth(ctx context.Context, q *dbsqlc.Queries, source, month string, importedAt time.Time) error {
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
		return nil, failed(fmt.Sprintf("billing of %q in %s", service, month), err)
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
		days = append(days, store.DailyCost{Day: row.Day.UTC(), EffectiveCost: row.EffectiveCost})
	}
	return days, nil
}
