// Package billing keeps the tally of a store.BillingStore import, so that
// every engine replaces the same months and summarises alike.
package billing

import (
	"fmt"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/store"
)

// Month is the month a charge is billed in: YYYY-MM of its start, in UTC.
func Month(chargePeriodStart time.Time) string {
	return chargePeriodStart.UTC().Format("2006-01")
}

// Tally counts the rows of one import as the engine writes them. Its zero
// value is an import of nothing.
type Tally struct {
	summary store.BillingImport
	months  map[string]bool
	// The last row's month, so that a run of rows of one month, as files
	// come, formats it once.
	lastYear  int
	lastMonth time.Month
	last      string
}

// Add counts row. It returns the row's month, and whether the row is the
// first of that month in the import: the engine then replaces the rows
// that source imported for the month before. A row in another currency
// than the rows before it is an error, which the caller should have
// refused: the summary has one currency.
func (t *Tally) Add(row store.BillingRow) (month string, first bool, err error) {
	if t.summary.Rows == 0 {
		t.summary.Currency = row.Currency
	} else if row.Currency != t.summary.Currency {
		return "", false, fmt.Errorf("billing rows mix currencies %q and %q", t.summary.Currency, row.Currency)
	}
	year, m, _ := row.ChargePeriodStart.UTC().Date()
	if t.last == "" || year != t.lastYear || m != t.lastMonth {
		t.lastYear, t.lastMonth, t.last = year, m, Month(row.ChargePeriodStart)
	}
	month = t.last
	if !t.months[month] {
		if t.months == nil {
			t.months = make(map[string]bool)
		}
		t.months[month] = true
		t.summary.Months = append(t.summary.Months, month)
		first = true
	}
	t.summary.Rows++
	if row.Service == "" {
		t.summary.UnmappedRows++
		t.summary.UnmappedCost += row.EffectiveCost
	}
	return month, first, nil
}

// Summary is the import's summary, its months sorted.
func (t *Tally) Summary() store.BillingImport {
	summary := t.summary
	summary.Months = slices.Sorted(slices.Values(t.summary.Months))
	return summary
}
