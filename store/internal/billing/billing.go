// Package billing is what the engines of store.BillingStore share about an
// import: which months it replaces, the summary it returns, the sums per
// resource and per day that the engines keep beside the rows for reads, and
// the pipeline that reads the next rows while the engine writes those before.
package billing

import (
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/store"
)

// Month is the month a charge is billed in: YYYY-MM of its start, in UTC.
func Month(chargePeriodStart time.Time) string {
	return chargePeriodStart.UTC().Format("2006-01")
}

// Batch is a run of an import's rows, in the order read, that an engine
// writes at once.
type Batch struct {
	// Currency is the import's: every row's.
	Currency string
	// NewMonths are the months whose first rows in the import are in Rows,
	// in order: before it writes Rows, the engine replaces what the source
	// imported for each of them before.
	NewMonths []string
	Rows      []Row
	// Resources and Days are sums of rows read so far, handed over when
	// there are sumLimit of them and with the last batch. The engine writes
	// them after Rows. Sums with the same key, from several batches or
	// split to stay within int64, add up when read.
	Resources []ResourceCost
	Days      []DailyCost
}

// Row is a row of an import, with its month and its place in the import.
type Row struct {
	store.BillingRow
	Month  string
	Number int64 // 1 for the import's first row
}

// ResourceCost sums the EffectiveCost of a service's rows of a month with
// the same resource and service category.
type ResourceCost struct {
	Month           string
	Service         string
	ResourceID      string
	ServiceCategory string
	EffectiveCost   int64
}

// DailyCost sums the EffectiveCost of a service's rows whose charge period
// starts on Day.
type DailyCost struct {
	Month         string
	Service       string
	Day           time.Time // UTC midnight
	EffectiveCost int64
}

// ReadError is an error of the rows an import reads, or of their mix of
// currencies: the caller's, not the engine's.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// Import reads rows on a goroutine of its own, tallying and summing them,
// and hands them to write on the caller's goroutine (a transaction's) in
// batches of up to batchRows rows, in order: the engine writes one batch
// while the next is read. An error of rows comes back as a *ReadError. An
// error of write stops the reading and comes back as it is. Import returns
// once nothing reads rows any longer; a panic while reading them is raised
// again on the caller's goroutine.
func Import(rows iter.Seq2[store.BillingRow, error], batchRows int, write func(*Batch) error) (store.BillingImport, error) {
	p := &pipeline{
		batchRows: batchRows,
		full:      make(chan *Batch, 1),
		free:      make(chan *Batch, 2),
		stop:      make(chan struct{}),
	}
	// Two batches: one written while the other fills.
	for range cap(p.free) {
		p.free <- &Batch{Rows: make([]Row, 0, batchRows)}
	}
	go p.read(rows)
	var writeErr error
	for b := range p.full {
		if writeErr == nil {
			if writeErr = write(b); writeErr != nil {
				close(p.stop)
			}
		}
		*b = Batch{Rows: b.Rows[:0]}
		p.free <- b
	}
	// The reader closed full: its fields are settled.
	if p.panicked != nil {
		panic(p.panicked)
	}
	if writeErr != nil {
		return store.BillingImport{}, writeErr
	}
	if p.readErr != nil {
		return store.BillingImport{}, p.readErr
	}
	return p.tally.summary(), nil
}

// pipeline hands batches from the goroutine that reads rows to the one that
// writes them, and back empty.
type pipeline struct {
	batchRows int
	full      chan *Batch   // read, to write
	free      chan *Batch   // written, to fill again
	stop      chan struct{} // closed when the writer failed
	// Set by the reader before it closes full.
	tally    tally
	readErr  error
	panicked any
}

// read fills batches from rows and sends them to the writer, until rows end
// or fail, or the writer stops. It closes full when it is done.
func (p *pipeline) read(rows iter.Seq2[store.BillingRow, error]) {
	defer close(p.full)
	defer func() {
		if r := recover(); r != nil {
			p.panicked = r
		}
	}()
	var s sums
	b := <-p.free
	for row, err := range rows {
		if err != nil {
			p.readErr = &ReadError{err}
			return
		}
		month, first, err := p.tally.add(row)
		if err != nil {
			p.readErr = &ReadError{err}
			return
		}
		if first {
			b.NewMonths = append(b.NewMonths, month)
		}
		b.Currency = row.Currency
		b.Rows = append(b.Rows, Row{BillingRow: row, Month: month, Number: p.tally.rows()})
		s.add(month, row)
		if s.len() >= sumLimit {
			b.Resources, b.Days = s.take()
		} else if len(b.Rows) < p.batchRows {
			continue
		}
		if b = p.send(b); b == nil {
			return
		}
	}
	b.Resources, b.Days = s.take()
	if len(b.Rows) > 0 || len(b.Resources) > 0 {
		p.send(b)
	}
}

// send hands b to the writer and returns an empty batch to fill next, or
// nil once the writer stopped.
func (p *pipeline) send(b *Batch) *Batch {
	select {
	case p.full <- b:
	case <-p.stop:
		return nil
	}
	select {
	case next := <-p.free:
		return next
	case <-p.stop:
		return nil
	}
}

// sumLimit is how many sums an import holds before it hands them to the
// engine: a bound on its memory (some megabytes), however many resources
// the file bills. A file of a month of daily rows usually sums to far fewer.
const sumLimit = 1 << 16

// sums are the sums of an import's rows per resource and per day, as
// ResourceCost and DailyCost, found by their keys.
type sums struct {
	resourceIndex map[resourceKey]int
	dayIndex      map[dayKey]int
	resources     []ResourceCost
	days          []DailyCost
	// The key and index of the last row's day.
	lastDayKey dayKey
	lastDay    int
}

type resourceKey struct{ month, service, resourceID, serviceCategory string }

type dayKey struct {
	month, service string
	day            int64 // see unixDay
}

const secondsPerDay = 24 * 60 * 60

// unixDay numbers t's UTC day: days since 1970-01-01, whose UTC midnight is
// day*secondsPerDay in Unix time, as Unix time has no leap seconds.
func unixDay(t time.Time) int64 {
	secs := t.Unix()
	day := secs / secondsPerDay
	if secs%secondsPerDay < 0 {
		day-- // rounded towards zero: down for times before 1970
	}
	return day
}

// add adds row, of month, to its sums.
func (s *sums) add(month string, row store.BillingRow) {
	if s.resourceIndex == nil {
		s.resourceIndex = make(map[resourceKey]int)
		s.dayIndex = make(map[dayKey]int)
	}
	rk := resourceKey{month, row.Service, row.ResourceID, row.ServiceCategory}
	if i, ok := s.resourceIndex[rk]; !ok || !addTo(&s.resources[i].EffectiveCost, row.EffectiveCost) {
		s.resourceIndex[rk] = len(s.resources)
		s.resources = append(s.resources, ResourceCost{
			Month: month, Service: row.Service, ResourceID: row.ResourceID,
			ServiceCategory: row.ServiceCategory, EffectiveCost: row.EffectiveCost,
		})
	}
	// Files list a day's rows together, often a service's resources in a
	// run: the sum the last row went to is the likeliest.
	dk := dayKey{month, row.Service, unixDay(row.ChargePeriodStart)}
	i, ok := s.lastDay, s.days != nil && s.lastDayKey == dk
	if !ok {
		i, ok = s.dayIndex[dk]
	}
	if !ok || !addTo(&s.days[i].EffectiveCost, row.EffectiveCost) {
		i = len(s.days)
		s.dayIndex[dk] = i
		s.days = append(s.days, DailyCost{
			Month: month, Service: row.Service, Day: time.Unix(dk.day*secondsPerDay, 0).UTC(), EffectiveCost: row.EffectiveCost,
		})
	}
	s.lastDay, s.lastDayKey = i, dk
}

// addTo adds n to *sum unless that overflows int64; then the key's sum
// starts anew, so that the stored sums add up as the rows would, overflow
// included, when read.
func addTo(sum *int64, n int64) bool {
	total := *sum + n
	if (n > 0 && total < *sum) || (n < 0 && total > *sum) {
		return false
	}
	*sum = total
	return true
}

func (s *sums) len() int { return len(s.resources) + len(s.days) }

// take returns the sums so far and starts from none.
func (s *sums) take() ([]ResourceCost, []DailyCost) {
	resources, days := s.resources, s.days
	*s = sums{}
	return resources, days
}

// tally counts the rows of one import. Its zero value is an import of
// nothing.
type tally struct {
	imported store.BillingImport
	months   map[string]bool
	// The last row's month, so that a run of rows of one month, as files
	// come, formats it once.
	lastYear  int
	lastMonth time.Month
	last      string
}

// add counts row. It returns the row's month, and whether the row is the
// first of that month in the import. A row in another currency than the
// rows before it is an error, which the caller should have refused: the
// summary has one currency.
func (t *tally) add(row store.BillingRow) (month string, first bool, err error) {
	if t.imported.Rows == 0 {
		t.imported.Currency = row.Currency
	} else if row.Currency != t.imported.Currency {
		return "", false, fmt.Errorf("billing rows mix currencies %q and %q", t.imported.Currency, row.Currency)
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
		t.imported.Months = append(t.imported.Months, month)
		first = true
	}
	t.imported.Rows++
	if row.Service == "" {
		t.imported.UnmappedRows++
		t.imported.UnmappedCost = t.imported.UnmappedCost.Add(money.Of(row.EffectiveCost))
	}
	return month, first, nil
}

// rows is how many rows were counted.
func (t *tally) rows() int64 { return t.imported.Rows }

// summary is the import's summary, its months sorted.
func (t *tally) summary() store.BillingImport {
	summary := t.imported
	summary.Months = slices.Sorted(slices.Values(t.imported.Months))
	return summary
}
