package storetest

import (
	"fmt"
	"iter"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/store"
)

// The months the billing tests import.
var (
	january  = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	february = time.Date(2031, 2, 1, 0, 0, 0, 0, time.UTC)
	march    = time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC)
)

// The resources the billing tests bill.
const (
	ordersDB     = "arn:aws:rds:eu-west-1:123456789012:db:orders"
	ordersAssets = "arn:aws:s3:::orders-assets"
	// Sorts before the others in byte order, after them in most
	// languages'.
	ordersQueue = "Orders-Queue"
	cartCache   = "arn:aws:elasticache:eu-west-1:123456789012:cluster:cart"
	searchIndex = "arn:aws:es:eu-west-1:123456789012:domain/search"
	ciRunner    = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc"
)

// charge is a row of a FOCUS file, in euros, its billed and list costs
// apart from its effective cost, so that summing the wrong one shows.
func charge(service, resourceID, category string, start time.Time, effectiveCost int64) store.BillingRow {
	return store.BillingRow{
		ChargePeriodStart: start,
		ChargePeriodEnd:   start.Add(time.Hour),
		ChargeCategory:    "Usage",
		Service:           service,
		ResourceID:        resourceID,
		ServiceName:       "Amazon " + category,
		ServiceCategory:   category,
		Currency:          "EUR",
		BilledCost:        effectiveCost + 7,
		EffectiveCost:     effectiveCost,
		ListCost:          2 * effectiveCost,
	}
}

// twoMonths is a file of two months for three services, with unmapped
// rows, the months interleaved: only the first row of each month replaces
// the rows imported before.
func twoMonths() []store.BillingRow {
	day := func(month time.Time, d int) time.Time { return month.AddDate(0, 0, d-1).Add(9 * time.Hour) }
	return []store.BillingRow{
		charge("orders", ordersDB, "Databases", day(february, 2), 1_600_000),
		charge("orders", ordersDB, "Databases", day(january, 3), 1_500_000),
		charge("orders", ordersAssets, "Storage", day(january, 5), 120_000),
		charge("orders", ordersQueue, "Integration", day(january, 6), 10_000),
		charge("cart", cartCache, "Databases", day(january, 7), 800_000),
		// 00:30 on 1 February in Paris is still January in UTC.
		charge("search", searchIndex, "Analytics", time.Date(2031, 2, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 4_000_000),
		charge("", ciRunner, "Compute", day(january, 9), 300_000),
		charge("orders", ordersDB, "Databases", day(january, 20), 2_250_000),
		charge("orders", ordersAssets, "Storage", day(february, 5), 65_000),
		charge("orders", ordersAssets, "Storage", day(february, 6), 65_000),
		charge("cart", cartCache, "Databases", day(february, 7), 900_000),
		charge("search", searchIndex, "Analytics", day(february, 8), 4_100_000),
		charge("", ciRunner, "Compute", day(february, 9), 310_000),
		charge("", ciRunner, "Compute", day(january, 10), 50_000),
	}
}

// billed is a resource's cost in euros as ServiceBilling returns it.
func billed(resourceID, category string, effectiveCost int64) store.BilledResource {
	return store.BilledResource{ResourceID: resourceID, ServiceCategory: category, EffectiveCost: money.Of(effectiveCost), Currency: "EUR"}
}

// dailyCost is a day's cost in euros as DailyBilling returns it.
func dailyCost(day time.Time, effectiveCost int64) store.DailyCost {
	return store.DailyCost{Day: day, Currency: "EUR", EffectiveCost: money.Of(effectiveCost)}
}

// twoMonthsBilling is what ServiceBilling returns once twoMonths is
// imported, by service and month.
var twoMonthsBilling = map[[2]string][]store.BilledResource{
	{"orders", "2031-01"}: {billed(ordersQueue, "Integration", 10_000), billed(ordersDB, "Databases", 3_750_000), billed(ordersAssets, "Storage", 120_000)},
	{"orders", "2031-02"}: {billed(ordersDB, "Databases", 1_600_000), billed(ordersAssets, "Storage", 130_000)},
	{"cart", "2031-01"}:   {billed(cartCache, "Databases", 800_000)},
	{"cart", "2031-02"}:   {billed(cartCache, "Databases", 900_000)},
	{"search", "2031-01"}: {billed(searchIndex, "Analytics", 4_000_000)},
	{"search", "2031-02"}: {billed(searchIndex, "Analytics", 4_100_000)},
}

func testReplaceBillingSumsEachServicesResourcesPerMonth(t *testing.T, s store.Store) {
	importBilling(t, s, "aws", twoMonths()...)

	requireBillingOf(t, s, twoMonthsBilling)
	requireBilling(t, s, "orders", "2031-03")
	requireBilling(t, s, "payments", "2031-01")
	requireBilling(t, s, "", "2031-01", billed(ciRunner, "Compute", 350_000))

	// Several months at once, those without billing left out; none of none.
	got, err := s.ServiceBilling(t.Context(), "orders", "2031-03", "2031-02", "2031-01")
	require.NoError(t, err)
	require.Equal(t, map[string][]store.BilledResource{
		"2031-01": twoMonthsBilling[[2]string{"orders", "2031-01"}],
		"2031-02": twoMonthsBilling[[2]string{"orders", "2031-02"}],
	}, got)
	got, err = s.ServiceBilling(t.Context(), "orders")
	require.NoError(t, err)
	require.Empty(t, got)

	// A resource's running total may pass int64's range on the way to a
	// sum within it: engines that sum ahead of reads keep it right.
	const vault = "arn:aws:s3:::ledger-vault"
	importBilling(t, s, "ledger",
		charge("ledger", vault, "Storage", march, math.MaxInt64-10),
		charge("ledger", vault, "Storage", march.Add(time.Hour), 20),
		charge("ledger", vault, "Storage", march.Add(2*time.Hour), -30))
	requireBilling(t, s, "ledger", "2031-03", billed(vault, "Storage", math.MaxInt64-20))
	require.Equal(t, []store.DailyCost{dailyCost(march, math.MaxInt64-20)},
		dailyBilling(t, s, []string{"ledger"}, march, march.AddDate(0, 0, 1)))
}

func testReplaceBillingSummarisesTheImport(t *testing.T, s store.Store) {
	got := importBilling(t, s, "aws", twoMonths()...)

	require.Equal(t, store.BillingImport{
		Rows:         14,
		Months:       []string{"2031-01", "2031-02"},
		UnmappedRows: 3,
		UnmappedCost: money.Of(660_000),
		Currency:     "EUR",
	}, got)
}

func testReimportOfAMonthReplacesItAndKeepsTheOthers(t *testing.T, s store.Store) {
	importBilling(t, s, "aws", twoMonths()...)

	// Again, in full: nothing doubles.
	importBilling(t, s, "aws", twoMonths()...)
	requireBillingOf(t, s, twoMonthsBilling)

	// January alone, corrected: January is the new rows alone, February as
	// it was.
	got := importBilling(t, s, "aws",
		charge("orders", ordersDB, "Databases", january.Add(time.Hour), 1_000_000),
		charge("orders", ordersDB, "Databases", january.Add(2*time.Hour), 500_000),
	)
	require.Equal(t, []string{"2031-01"}, got.Months)
	want := maps(twoMonthsBilling)
	want[[2]string{"orders", "2031-01"}] = []store.BilledResource{billed(ordersDB, "Databases", 1_500_000)}
	want[[2]string{"cart", "2031-01"}] = nil
	want[[2]string{"search", "2031-01"}] = nil
	requireBillingOf(t, s, want)
	requireBilling(t, s, "", "2031-01")
	requireBilling(t, s, "", "2031-02", billed(ciRunner, "Compute", 310_000))
}

func testReplaceBillingKeepsOtherSourcesRowsOfTheMonth(t *testing.T, s store.Store) {
	const ordersSQL = "projects/acme/instances/orders-sql"
	importBilling(t, s, "aws", twoMonths()...)
	importBilling(t, s, "gcp", charge("orders", ordersSQL, "Databases", january.Add(time.Hour), 700_000))

	want := maps(twoMonthsBilling)
	want[[2]string{"orders", "2031-01"}] = []store.BilledResource{
		billed(ordersQueue, "Integration", 10_000),
		billed(ordersDB, "Databases", 3_750_000),
		billed(ordersAssets, "Storage", 120_000),
		billed(ordersSQL, "Databases", 700_000),
	}
	requireBillingOf(t, s, want)

	// Replacing aws's months leaves gcp's rows alone, and the other way
	// round.
	importBilling(t, s, "aws", twoMonths()...)
	requireBillingOf(t, s, want)
	importBilling(t, s, "gcp", charge("orders", ordersSQL, "Databases", january.Add(time.Hour), 710_000))
	want[[2]string{"orders", "2031-01"}][3].EffectiveCost = money.Of(710_000)
	requireBillingOf(t, s, want)
}

// rowError is the error of a file's row, as a parser would yield it.
type rowError struct{ line int }

func (e *rowError) Error() string { return fmt.Sprintf("line %d: malformed charge", e.line) }

func testReplaceBillingFailingHalfWayRollsBackTheWholeImport(t *testing.T, s store.Store) {
	importBilling(t, s, "aws", twoMonths()...)
	last := lastBillingImport(t, s)

	// January first, whose rows it deletes, then March, whose rows it
	// inserts, then the error.
	yielded := &rowError{line: 42}
	rows := func(yield func(store.BillingRow, error) bool) {
		_ = yield(charge("orders", ordersDB, "Databases", january, 1_000_000), nil) &&
			yield(charge("orders", ordersDB, "Databases", march, 2_000_000), nil) &&
			yield(charge("cart", cartCache, "Databases", march, 3_000_000), nil) &&
			yield(store.BillingRow{}, yielded)
	}
	got, err := s.ReplaceBilling(t.Context(), "aws", rows)
	require.ErrorIs(t, err, yielded)
	var asRowError *rowError
	require.ErrorAs(t, err, &asRowError)
	require.Equal(t, 42, asRowError.line)
	require.NotErrorIs(t, err, store.ErrUnavailable)
	require.Zero(t, got)

	requireBillingOf(t, s, twoMonthsBilling)
	requireBilling(t, s, "orders", "2031-03")
	requireBilling(t, s, "cart", "2031-03")
	require.Equal(t, last, lastBillingImport(t, s))

	// The store is left able to import.
	importBilling(t, s, "aws", charge("orders", ordersDB, "Databases", march, 2_000_000))
	requireBilling(t, s, "orders", "2031-03", billed(ordersDB, "Databases", 2_000_000))
}

func testReplaceBillingOfMixedCurrenciesFailsAndWritesNothing(t *testing.T, s store.Store) {
	importBilling(t, s, "aws", twoMonths()...)
	last := lastBillingImport(t, s)

	dollars := charge("orders", ordersDB, "Databases", march, 2_000_000)
	dollars.Currency = "USD"
	rows := slices.Values([]store.BillingRow{
		charge("orders", ordersDB, "Databases", january, 1_000_000),
		charge("orders", ordersDB, "Databases", march, 2_000_000),
		dollars,
	})
	_, err := s.ReplaceBilling(t.Context(), "aws", withoutErrors(rows))
	require.ErrorContains(t, err, "USD")

	requireBillingOf(t, s, twoMonthsBilling)
	requireBilling(t, s, "orders", "2031-03")
	require.Equal(t, last, lastBillingImport(t, s))
}

func testLastBillingImportMovesWithEachImport(t *testing.T, s store.Store) {
	require.Zero(t, lastBillingImport(t, s), "before any import")

	before := time.Now()
	importBilling(t, s, "aws", twoMonths()...)
	after := time.Now()
	first := lastBillingImport(t, s)
	requireStoreTime(t, first, before, after)

	// Another source's import, of one month, is an import too.
	before = time.Now()
	importBilling(t, s, "gcp", charge("orders", "projects/acme/instances/orders-sql", "Databases", march, 1))
	after = time.Now()
	second := lastBillingImport(t, s)
	requireStoreTime(t, second, before, after)
	require.False(t, second.Before(first))
}

func testReplaceBillingOfNoRowsImportsNothing(t *testing.T, s store.Store) {
	got := importBilling(t, s, "aws")
	require.Zero(t, got.Rows)
	require.Empty(t, got.Months)
	require.Zero(t, lastBillingImport(t, s), "importing nothing is no import")

	importBilling(t, s, "aws", twoMonths()...)
	last := lastBillingImport(t, s)
	got = importBilling(t, s, "aws")
	require.Zero(t, got.Rows)
	require.Empty(t, got.Months)
	requireBillingOf(t, s, twoMonthsBilling)
	require.Equal(t, last, lastBillingImport(t, s))
}

// importBilling imports rows from source, failing the test on error.
func importBilling(t *testing.T, s store.Store, source string, rows ...store.BillingRow) store.BillingImport {
	t.Helper()
	got, err := s.ReplaceBilling(t.Context(), source, withoutErrors(slices.Values(rows)))
	require.NoError(t, err)
	return got
}

// withoutErrors is rows, each without an error.
func withoutErrors(rows iter.Seq[store.BillingRow]) iter.Seq2[store.BillingRow, error] {
	return func(yield func(store.BillingRow, error) bool) {
		for row := range rows {
			if !yield(row, nil) {
				return
			}
		}
	}
}

// requireBilling fails unless ServiceBilling of service and month returns
// want for the month: the month left out when want is empty.
func requireBilling(t *testing.T, s store.Store, service, month string, want ...store.BilledResource) {
	t.Helper()
	got, err := s.ServiceBilling(t.Context(), service, month)
	require.NoError(t, err)
	if len(want) == 0 {
		require.Empty(t, got, "billing of %q in %s", service, month)
		return
	}
	require.Equal(t, map[string][]store.BilledResource{month: want}, got, "billing of %q in %s", service, month)
}

// requireBillingOf fails unless ServiceBilling returns want for each of its
// services and months.
func requireBillingOf(t *testing.T, s store.Store, want map[[2]string][]store.BilledResource) {
	t.Helper()
	for key, resources := range want {
		requireBilling(t, s, key[0], key[1], resources...)
	}
}

// maps is a copy of billing, its lists copied.
func maps(billing map[[2]string][]store.BilledResource) map[[2]string][]store.BilledResource {
	c := make(map[[2]string][]store.BilledResource, len(billing))
	for key, resources := range billing {
		c[key] = slices.Clone(resources)
	}
	return c
}

func lastBillingImport(t *testing.T, s store.Store) time.Time {
	t.Helper()
	at, err := s.LastBillingImport(t.Context())
	require.NoError(t, err)
	return at
}

func testReplaceBillingOfManyRowsKeepsEveryOne(t *testing.T, s store.Store) {
	// More rows than an engine may write at once, over a month's end.
	const n = 25_000
	rows := func(yield func(store.BillingRow, error) bool) {
		for i := range n {
			start := february.Add(time.Duration(i-n/2) * time.Minute)
			if !yield(charge("orders", fmt.Sprintf("volume-%02d", i%10), "Storage", start, int64(i)), nil) {
				return
			}
		}
	}
	got, err := s.ReplaceBilling(t.Context(), "aws", rows)
	require.NoError(t, err)
	require.Equal(t, store.BillingImport{Rows: n, Months: []string{"2031-01", "2031-02"}, Currency: "EUR"}, got)

	// Each month holds half the rows: volume-d's costs are d, d+10, ...
	sums := func(from, to int) []store.BilledResource {
		var resources []store.BilledResource
		for d := range 10 {
			var sum int64
			for i := from + d; i < to; i += 10 {
				sum += int64(i)
			}
			resources = append(resources, billed(fmt.Sprintf("volume-%02d", d), "Storage", sum))
		}
		return resources
	}
	requireBilling(t, s, "orders", "2031-01", sums(0, n/2)...)
	requireBilling(t, s, "orders", "2031-02", sums(n/2, n)...)
}

// dailyRows are charges of three services over a few days, several a day,
// some on the edges of days.
func dailyRows() []store.BillingRow {
	at := func(d, h, m int) time.Time { return time.Date(2031, 1, d, h, m, 0, 0, time.UTC) }
	return []store.BillingRow{
		charge("orders", ordersDB, "Databases", at(2, 23, 59), 1_000_000),
		charge("orders", ordersDB, "Databases", at(3, 0, 0), 2_000_000),
		charge("orders", ordersAssets, "Storage", at(3, 12, 0), 30_000),
		charge("cart", cartCache, "Databases", at(3, 23, 59), 400_000),
		// 00:30 on 5 January in Paris is still 4 January in UTC.
		charge("cart", cartCache, "Databases", time.Date(2031, 1, 5, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 500_000),
		charge("orders", ordersQueue, "Integration", at(6, 0, 0), 7_000),
		charge("search", searchIndex, "Analytics", at(3, 9, 0), 9_000_000),
		charge("search", searchIndex, "Analytics", at(5, 9, 0), 9_000_000),
		charge("", ciRunner, "Compute", at(3, 9, 0), 300_000),
	}
}

// day is a day of January 2031, at UTC midnight.
func day(d int) time.Time { return time.Date(2031, 1, d, 0, 0, 0, 0, time.UTC) }

// dailyBilling is DailyBilling's answer, failing the test on error.
func dailyBilling(t *testing.T, s store.Store, services []string, from, to time.Time) []store.DailyCost {
	t.Helper()
	got, err := s.DailyBilling(t.Context(), services, from, to)
	require.NoError(t, err)
	return got
}

func testDailyBillingSumsEachDayAcrossTheServices(t *testing.T, s store.Store) {
	importBilling(t, s, "aws", dailyRows()...)
	importBilling(t, s, "gcp", charge("orders", "projects/acme/instances/orders-sql", "Databases", day(4).Add(time.Hour), 60_000))

	got := dailyBilling(t, s, []string{"orders", "cart"}, day(1), day(10))
	require.Equal(t, []store.DailyCost{
		dailyCost(day(2), 1_000_000),
		dailyCost(day(3), 2_430_000),
		dailyCost(day(4), 560_000),
		dailyCost(day(6), 7_000),
	}, got)
	for _, d := range got {
		require.Equal(t, time.UTC, d.Day.Location())
	}

	require.Equal(t, []store.DailyCost{
		dailyCost(day(3), 400_000),
	}, dailyBilling(t, s, []string{"cart"}, day(3), day(4)))
}

func testDailyBillingKeepsToItsRange(t *testing.T, s store.Store) {
	importBilling(t, s, "aws", dailyRows()...)

	// From is inclusive, to exclusive.
	require.Equal(t, []store.DailyCost{
		dailyCost(day(3), 2_430_000),
		dailyCost(day(4), 500_000),
	}, dailyBilling(t, s, []string{"orders", "cart"}, day(3), day(5)))
	require.Equal(t, []store.DailyCost{
		dailyCost(day(6), 7_000),
	}, dailyBilling(t, s, []string{"orders", "cart"}, day(6), day(7)))
	require.Empty(t, dailyBilling(t, s, []string{"orders", "cart"}, day(7), day(30)))
	require.Empty(t, dailyBilling(t, s, []string{"orders", "cart"}, day(3), day(3)))
}

func testDailyBillingLeavesOtherServicesOut(t *testing.T, s store.Store) {
	importBilling(t, s, "aws", dailyRows()...)

	require.Equal(t, []store.DailyCost{
		dailyCost(day(3), 9_000_000),
		dailyCost(day(5), 9_000_000),
	}, dailyBilling(t, s, []string{"search"}, day(1), day(10)))
	require.Equal(t, []store.DailyCost{
		dailyCost(day(3), 300_000),
	}, dailyBilling(t, s, []string{""}, day(1), day(10)), "the unmapped rows, asked for")
	require.Empty(t, dailyBilling(t, s, []string{"payments"}, day(1), day(10)))
}

func testDailyBillingOfNothingIsEmpty(t *testing.T, s store.Store) {
	require.Empty(t, dailyBilling(t, s, []string{"orders"}, day(1), day(10)), "before any import")

	importBilling(t, s, "aws", dailyRows()...)
	require.Empty(t, dailyBilling(t, s, nil, day(1), day(10)), "of no services")
	require.Empty(t, dailyBilling(t, s, []string{}, day(1), day(10)), "of no services")
}

func testBillingSumsPastInt64AreExact(t *testing.T, s store.Store) {
	// Each row within int64, as the FOCUS reader takes it; their sums far
	// past it, from one source and from two, per resource and per day.
	const most = 9_223_372_036_854_000_000 // 9,223,372,036,854 units
	const vault, ledger = "arn:aws:s3:::ledger-vault", "arn:aws:rds:ledger"
	importBilling(t, s, "aws",
		charge("ledger", vault, "Storage", march, most),
		charge("ledger", vault, "Storage", march.Add(time.Hour), most),
		charge("ledger", ledger, "Databases", march.Add(2*time.Hour), most))
	importBilling(t, s, "gcp", charge("ledger", vault, "Storage", march.Add(3*time.Hour), most))

	three := money.Of(most).Add(money.Of(most)).Add(money.Of(most))
	require.Equal(t, "27670116110562000000", three.String())
	got, err := s.ServiceBilling(t.Context(), "ledger", "2031-03")
	require.NoError(t, err)
	require.Equal(t, map[string][]store.BilledResource{"2031-03": {
		billed(ledger, "Databases", most),
		{ResourceID: vault, ServiceCategory: "Storage", EffectiveCost: three, Currency: "EUR"},
	}}, got)
	four := three.Add(money.Of(most))
	require.Equal(t, []store.DailyCost{{Day: march, Currency: "EUR", EffectiveCost: four}},
		dailyBilling(t, s, []string{"ledger"}, march, march.AddDate(0, 0, 1)))

	// gcp's month again, as credits as large: 2 x most - 3 x most + 1.
	importBilling(t, s, "gcp",
		charge("ledger", vault, "Storage", march.Add(3*time.Hour), -most),
		charge("ledger", vault, "Storage", march.Add(4*time.Hour), -most),
		charge("ledger", vault, "Storage", march.Add(5*time.Hour), -most+1))
	requireBilling(t, s, "ledger", "2031-03", billed(ledger, "Databases", most), billed(vault, "Storage", -most+1))
	require.Equal(t, []store.DailyCost{dailyCost(march, 1)},
		dailyBilling(t, s, []string{"ledger"}, march, march.AddDate(0, 0, 1)))
}

func testBillingNeverAddsCurrenciesTogether(t *testing.T, s store.Store) {
	// Kept from before imports were held to one currency: a source's
	// months in euros, another's in dollars.
	importBilling(t, s, "aws", charge("orders", ordersDB, "Databases", march, 100_000_000))
	dollars := charge("orders", ordersDB, "Databases", march.Add(time.Hour), 100_000_000)
	dollars.Currency = "USD"
	importBilling(t, s, "gcp", dollars)

	requireBilling(t, s, "orders", "2031-03",
		billed(ordersDB, "Databases", 100_000_000),
		store.BilledResource{ResourceID: ordersDB, ServiceCategory: "Databases", EffectiveCost: money.Of(100_000_000), Currency: "USD"})
	require.Equal(t, []store.DailyCost{
		dailyCost(march, 100_000_000),
		{Day: march, Currency: "USD", EffectiveCost: money.Of(100_000_000)},
	}, dailyBilling(t, s, []string{"orders"}, march, march.AddDate(0, 0, 1)))
}
