package billing

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/store"
)

var (
	april = time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC)
	may   = time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)
)

func charge(service, resourceID string, start time.Time, cost int64) store.BillingRow {
	return store.BillingRow{
		ChargePeriodStart: start, ChargePeriodEnd: start.Add(time.Hour), ChargeCategory: "Usage",
		Service: service, ResourceID: resourceID, ServiceName: "Amazon EC2", ServiceCategory: "Compute",
		Currency: "EUR", BilledCost: cost + 1, EffectiveCost: cost, ListCost: 2 * cost,
	}
}

// rowsOf yields rows, and records in *finished that the sequence returned.
func rowsOf(rows []store.BillingRow, finished *bool) func(yield func(store.BillingRow, error) bool) {
	return func(yield func(store.BillingRow, error) bool) {
		defer func() { *finished = true }()
		for _, row := range rows {
			if !yield(row, nil) {
				return
			}
		}
	}
}

// collect imports rows in batches of batchRows and returns the batches, as
// copies: Import reuses them.
func collect(t *testing.T, rows []store.BillingRow, batchRows int) ([]Batch, store.BillingImport) {
	t.Helper()
	var batches []Batch
	finished := false
	summary, err := Import(rowsOf(rows, &finished), batchRows, func(b *Batch) error {
		c := *b
		c.Rows = append([]Row(nil), b.Rows...)
		batches = append(batches, c)
		return nil
	})
	require.NoError(t, err)
	require.True(t, finished)
	return batches, summary
}

func TestImportHandsRowsOverInOrderInBatchesWithTheirMonthsAndNumbers(t *testing.T) {
	rows := []store.BillingRow{
		charge("orders", "db", april, 1),
		charge("orders", "db", april.Add(time.Hour), 2),
		charge("cart", "cache", may, 3), // May's first row
		charge("orders", "db", april.AddDate(0, 0, 3), 4),
		charge("", "nat", may.Add(time.Hour), 5),
	}
	batches, summary := collect(t, rows, 2)

	require.Len(t, batches, 3)
	require.Equal(t, []string{"2031-04"}, batches[0].NewMonths)
	require.Equal(t, []string{"2031-05"}, batches[1].NewMonths)
	require.Empty(t, batches[2].NewMonths)
	var got []Row
	for _, b := range batches {
		require.Equal(t, "EUR", b.Currency)
		got = append(got, b.Rows...)
	}
	require.Len(t, got, len(rows))
	for i, row := range got {
		require.Equal(t, rows[i], row.BillingRow)
		require.Equal(t, int64(i+1), row.Number)
		require.Equal(t, Month(rows[i].ChargePeriodStart), row.Month)
	}
	require.Empty(t, batches[0].Resources, "sums come with the last batch")
	require.NotEmpty(t, batches[2].Resources)
	require.Equal(t, store.BillingImport{
		Rows: 5, Months: []string{"2031-04", "2031-05"}, UnmappedRows: 1, UnmappedCost: money.Of(5), Currency: "EUR",
	}, summary)
}

func TestImportSummarisesUnmappedCostPastInt64Exactly(t *testing.T) {
	rows := []store.BillingRow{
		charge("", "nat", april, math.MaxInt64),
		charge("", "nat", may, math.MaxInt64),
		charge("", "nat", may.Add(time.Hour), 2),
	}
	_, summary := collect(t, rows, 2)
	require.Equal(t, "18446744073709551616", summary.UnmappedCost.String())
}

func TestImportSumsEachResourceOfAMonthAndEachDay(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	rows := []store.BillingRow{
		charge("orders", "db", april.Add(9*time.Hour), 100),
		charge("orders", "db", april.Add(23*time.Hour), 20),
		charge("orders", "db", april.AddDate(0, 0, 1), 3),
		charge("orders", "bucket", april.Add(time.Hour), 4000),
		// 00:30 on 1 May in Paris is 30 April in UTC.
		charge("orders", "db", time.Date(2031, 5, 1, 0, 30, 0, 0, paris), 50_000),
		charge("orders", "db", may, 600_000),
		charge("cart", "db", april, 7_000_000),
		// Before 1970, Unix time is negative: still the UTC day.
		charge("museum", "db", time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), 8),
	}
	batches, _ := collect(t, rows, 100)

	require.Len(t, batches, 1)
	require.ElementsMatch(t, []ResourceCost{
		{Month: "2031-04", Service: "orders", ResourceID: "db", ServiceCategory: "Compute", EffectiveCost: 50_123},
		{Month: "2031-04", Service: "orders", ResourceID: "bucket", ServiceCategory: "Compute", EffectiveCost: 4000},
		{Month: "2031-05", Service: "orders", ResourceID: "db", ServiceCategory: "Compute", EffectiveCost: 600_000},
		{Month: "2031-04", Service: "cart", ResourceID: "db", ServiceCategory: "Compute", EffectiveCost: 7_000_000},
		{Month: "1969-12", Service: "museum", ResourceID: "db", ServiceCategory: "Compute", EffectiveCost: 8},
	}, batches[0].Resources)
	require.ElementsMatch(t, []DailyCost{
		{Month: "2031-04", Service: "orders", Day: april, EffectiveCost: 4120},
		{Month: "2031-04", Service: "orders", Day: april.AddDate(0, 0, 1), EffectiveCost: 3},
		{Month: "2031-04", Service: "orders", Day: may.AddDate(0, 0, -1), EffectiveCost: 50_000},
		{Month: "2031-05", Service: "orders", Day: may, EffectiveCost: 600_000},
		{Month: "2031-04", Service: "cart", Day: april, EffectiveCost: 7_000_000},
		{Month: "1969-12", Service: "museum", Day: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), EffectiveCost: 8},
	}, batches[0].Days)
}

func TestImportStartsASumAnewRatherThanOverflowInt64(t *testing.T) {
	rows := []store.BillingRow{
		charge("orders", "db", april, math.MaxInt64-10),
		charge("orders", "db", april, 20),            // would overflow: a second sum
		charge("orders", "db", april, -30),           // added to the second
		charge("orders", "db", april, math.MinInt64), // would overflow: a third
	}
	batches, _ := collect(t, rows, 100)

	var sums []int64
	for _, c := range batches[0].Resources {
		sums = append(sums, c.EffectiveCost)
	}
	require.Equal(t, []int64{math.MaxInt64 - 10, -10, math.MinInt64}, sums,
		"each sum within int64; together what the rows add up to")
}

func TestImportHandsSumsOverOnceItHoldsSumLimitOfThem(t *testing.T) {
	// A resource per row, so that the import holds more than sumLimit sums,
	// and one resource on every other row, so that it has sums on both sides
	// of the handover.
	const n = sumLimit + 1000
	rows := make([]store.BillingRow, 0, 2*n)
	for i := range n {
		rows = append(rows, charge("orders", fmt.Sprintf("volume-%06d", i), april, 1), charge("orders", "db", april, 2))
	}
	batches, _ := collect(t, rows, 4096)

	handedOver := 0
	total := map[string]int64{}
	for _, b := range batches {
		if len(b.Resources) > 0 {
			handedOver++
		}
		for _, c := range b.Resources {
			total[c.ResourceID] += c.EffectiveCost
		}
	}
	require.Equal(t, 2, handedOver)
	require.Len(t, total, n+1)
	require.Equal(t, int64(2*n), total["db"])
	require.Equal(t, int64(1), total["volume-000000"])
}

func TestImportReturnsTheRowsErrorAsAReadError(t *testing.T) {
	yielded := errors.New("row 3: malformed")
	rows := func(yield func(store.BillingRow, error) bool) {
		_ = yield(charge("orders", "db", april, 1), nil) && yield(store.BillingRow{}, yielded)
	}
	summary, err := Import(rows, 100, func(*Batch) error { return nil })

	require.ErrorIs(t, err, yielded)
	var readErr *ReadError
	require.ErrorAs(t, err, &readErr)
	require.Zero(t, summary)
}

func TestImportOfMixedCurrenciesIsAReadError(t *testing.T) {
	dollars := charge("orders", "db", april, 2)
	dollars.Currency = "USD"
	finished := false
	_, err := Import(rowsOf([]store.BillingRow{charge("orders", "db", april, 1), dollars}, &finished), 100,
		func(*Batch) error { return nil })

	var readErr *ReadError
	require.ErrorAs(t, err, &readErr)
	require.ErrorContains(t, err, "USD")
	require.True(t, finished)
}

func TestImportStopsReadingWhenAWriteFailsAndReturnsOnceTheRowsAre(t *testing.T) {
	rows := make([]store.BillingRow, 10_000)
	for i := range rows {
		rows[i] = charge("orders", "db", april, int64(i))
	}
	read := 0
	finished := false
	counted := func(yield func(store.BillingRow, error) bool) {
		rowsOf(rows, &finished)(func(row store.BillingRow, err error) bool {
			read++
			return yield(row, err)
		})
	}
	failure := errors.New("disk full")
	writes := 0
	_, err := Import(counted, 10, func(*Batch) error {
		writes++
		return failure
	})

	require.ErrorIs(t, err, failure)
	require.Equal(t, 1, writes)
	require.Less(t, read, 100, "at most the batches in flight are read after the failure")
	require.True(t, finished, "rows are no longer read once Import returns")
}

func TestImportOfNoRowsWritesNothing(t *testing.T) {
	finished := false
	summary, err := Import(rowsOf(nil, &finished), 100, func(*Batch) error {
		t.Fatal("nothing to write")
		return nil
	})
	require.NoError(t, err)
	require.Zero(t, summary)
}

func TestImportRaisesAPanicOfTheRowsOnTheCallersGoroutine(t *testing.T) {
	rows := func(yield func(store.BillingRow, error) bool) {
		yield(charge("orders", "db", april, 1), nil)
		panic("reader bug")
	}
	require.PanicsWithValue(t, "reader bug", func() {
		Import(rows, 100, func(*Batch) error { return nil }) //nolint:errcheck // it panics
	})
}

// BenchmarkImport reads a month of daily rows of 20,000 resources, as a
// FOCUS file orders them, into batches written nowhere: the pipeline's own
// cost per row.
func BenchmarkImport(b *testing.B) {
	const resources, days = 20_000, 30
	ids := make([]string, resources)
	services := make([]string, resources/10)
	for i := range ids {
		ids[i] = fmt.Sprintf("arn:aws:ec2:eu-west-1:123456789012:instance/i-%012x", i)
	}
	for i := range services {
		services[i] = fmt.Sprintf("service-%05d", i)
	}
	rows := make([]store.BillingRow, 0, resources*days)
	for d := range days {
		for r := range resources {
			rows = append(rows, charge(services[r/10], ids[r], april.AddDate(0, 0, d), int64(r)))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		finished := false
		_, err := Import(rowsOf(rows, &finished), 4096, func(*Batch) error { return nil })
		require.NoError(b, err)
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
