package cost

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/store"
)

// dailyCharge is a billed row of a service at a time, its billed and list
// costs apart from its effective cost, so that summing the wrong one shows.
func dailyCharge(service string, at time.Time, cost int64) store.BillingRow {
	return store.BillingRow{
		ChargePeriodStart: at, ChargePeriodEnd: at.Add(time.Hour), ChargeCategory: "Usage",
		Service: service, ResourceID: service + "-db", ServiceName: "Amazon RDS", ServiceCategory: "Databases",
		Currency: "USD", BilledCost: cost + 1, EffectiveCost: cost, ListCost: 3 * cost,
	}
}

// importRows imports rows through an iterator, as an import would.
func importRows(t *testing.T, st store.BillingStore, rows []store.BillingRow) {
	t.Helper()
	_, err := st.ReplaceBilling(t.Context(), "test", func(yield func(store.BillingRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	})
	require.NoError(t, err)
}

func ymd(y, m, d int) *date.Date {
	return &date.Date{Year: int32(y), Month: int32(m), Day: int32(d)}
}

// costsOf is the days' costs by their date, YYYY-MM-DD, and the dates in
// order.
func costsOf(t *testing.T, days []*cairnv1.DailyCost) (map[string]float64, []string) {
	t.Helper()
	costs := make(map[string]float64, len(days))
	var order []string
	for _, d := range days {
		key := time.Date(int(d.GetDate().GetYear()), time.Month(d.GetDate().GetMonth()), int(d.GetDate().GetDay()), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		costs[key] = d.GetCost()
		order = append(order, key)
	}
	return costs, order
}

// dateRange is the dates from first to last, both included, YYYY-MM-DD.
func dateRange(first, last time.Time) []string {
	var out []string
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func TestGetServiceDailyCostSumsEachDayAndFillsTheGaps(t *testing.T) {
	s, st := newTestServer(t)
	provision(t, st, "orders-service")
	provision(t, st, "cart-service")

	// Rows every 7 hours from 28 February 2031 to 10 March, some days
	// skipped, each a different cost; summed per UTC day here, apart from
	// the store.
	paris := time.FixedZone("CET", 3600)
	want := map[string]int64{}
	var rows []store.BillingRow
	start := time.Date(2031, 2, 28, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 40; i++ {
		at := start.Add(time.Duration(i) * 7 * time.Hour)
		if at.Day() == 3 || at.Day() == 4 { // no billing those days
			continue
		}
		cost := int64(1_000_000 + i*12_345)
		rows = append(rows, dailyCharge("orders-service", at.In(paris), cost))
		want[at.UTC().Format(time.DateOnly)] += cost
		// Another service's rows, the same days: not the service's cost.
		rows = append(rows, dailyCharge("cart-service", at, 99_000_000))
	}
	// The last minute of a day, and of the range.
	rows = append(rows, dailyCharge("orders-service", time.Date(2031, 3, 7, 23, 59, 59, 0, time.UTC), 5_000_000))
	want["2031-03-07"] += 5_000_000
	// The day after the range.
	rows = append(rows, dailyCharge("orders-service", time.Date(2031, 3, 8, 0, 0, 0, 0, time.UTC), 77_000_000))
	importRows(t, st, rows)

	resp, err := s.GetServiceDailyCost(t.Context(), &cairnv1.GetServiceDailyCostRequest{
		Name: "services/orders-service", StartDate: ymd(2031, 2, 27), EndDate: ymd(2031, 3, 7),
	})
	require.NoError(t, err)
	require.Equal(t, "USD", resp.GetCurrency())
	got, order := costsOf(t, resp.GetDays())
	require.Equal(t, dateRange(time.Date(2031, 2, 27, 0, 0, 0, 0, time.UTC), time.Date(2031, 3, 7, 0, 0, 0, 0, time.UTC)), order)
	for _, day := range order {
		require.InDelta(t, float64(want[day])/1e6, got[day], 1e-9, "cost of %s", day)
	}
	for _, day := range []string{"2031-02-27", "2031-03-03", "2031-03-04"} {
		require.Zero(t, got[day], "no billing on %s", day)
	}
	require.NotZero(t, got["2031-02-28"])
	require.NotZero(t, got["2031-03-07"])
}

func TestGetServiceDailyCostOfOneDayWithoutBillingIsOneZero(t *testing.T) {
	s, st := newTestServer(t)
	provision(t, st, "orders-service")

	resp, err := s.GetServiceDailyCost(t.Context(), &cairnv1.GetServiceDailyCostRequest{
		Name: "services/orders-service", StartDate: ymd(2031, 1, 1), EndDate: ymd(2031, 1, 1),
	})
	require.NoError(t, err)
	require.Equal(t, []*cairnv1.DailyCost{{Date: ymd(2031, 1, 1), Cost: 0}}, resp.GetDays())
}

func TestGetServiceDailyCostOfAnUnknownServiceIsNotFound(t *testing.T) {
	s, _ := newTestServer(t)
	_, err := s.GetServiceDailyCost(t.Context(), &cairnv1.GetServiceDailyCostRequest{
		Name: "services/nope", StartDate: ymd(2031, 1, 1), EndDate: ymd(2031, 1, 31),
	})
	require.Equal(t, codes.NotFound, codeOf(err))
}

func TestGetTeamDailyCostSumsTheTeamsServicesAlone(t *testing.T) {
	s, st := newTestServer(t)
	provision(t, st, "orders-service") // team-orders
	provision(t, st, "cart-service")   // team-orders
	_, _, err := st.UpsertService(t.Context(), &store.Service{Name: "search-service", Owner: "group:default/team-search", Team: "team-search"}, "")
	require.NoError(t, err)

	at := func(d, h int) time.Time { return time.Date(2031, 5, d, h, 0, 0, 0, time.UTC) }
	importRows(t, st, []store.BillingRow{
		dailyCharge("orders-service", at(1, 9), 1_250_000),
		dailyCharge("cart-service", at(1, 23), 500_000),
		dailyCharge("orders-service", at(3, 0), 2_000_000),
		dailyCharge("orders-service", at(3, 12), 10_000),
		dailyCharge("search-service", at(1, 9), 900_000_000),
		dailyCharge("search-service", at(2, 9), 900_000_000),
		dailyCharge("", at(2, 9), 800_000_000), // unmapped
	})

	resp, err := s.GetTeamDailyCost(t.Context(), &cairnv1.GetTeamDailyCostRequest{
		Name: "teams/team-orders", StartDate: ymd(2031, 5, 1), EndDate: ymd(2031, 5, 4),
	})
	require.NoError(t, err)
	require.Equal(t, "USD", resp.GetCurrency())
	require.Equal(t, []*cairnv1.DailyCost{
		{Date: ymd(2031, 5, 1), Cost: 1.75},
		{Date: ymd(2031, 5, 2), Cost: 0},
		{Date: ymd(2031, 5, 3), Cost: 2.01},
		{Date: ymd(2031, 5, 4), Cost: 0},
	}, resp.GetDays())

	// A team without services costs nothing, every day.
	resp, err = s.GetTeamDailyCost(t.Context(), &cairnv1.GetTeamDailyCostRequest{
		Name: "teams/team-new", StartDate: ymd(2031, 5, 1), EndDate: ymd(2031, 5, 2),
	})
	require.NoError(t, err)
	require.Equal(t, []*cairnv1.DailyCost{{Date: ymd(2031, 5, 1)}, {Date: ymd(2031, 5, 2)}}, resp.GetDays())
}

func TestDailyCostRefusesInvalidRanges(t *testing.T) {
	s, st := newTestServer(t)
	provision(t, st, "orders-service")
	for _, tc := range []struct {
		name       string
		start, end *date.Date
		fields     []string
	}{
		{"no dates", nil, nil, []string{"start_date", "end_date"}},
		{"no start", nil, ymd(2031, 1, 1), []string{"start_date"}},
		{"no end", ymd(2031, 1, 1), nil, []string{"end_date"}},
		{"invalid dates", ymd(2031, 2, 30), ymd(2031, 13, 1), []string{"start_date", "end_date"}},
		{"no year", ymd(0, 1, 1), ymd(2031, 1, 1), []string{"start_date"}},
		{"no day", ymd(2031, 1, 1), ymd(2031, 1, 0), []string{"end_date"}},
		{"end before start", ymd(2031, 1, 2), ymd(2031, 1, 1), []string{"end_date"}},
		{"367 days", ymd(2031, 1, 1), ymd(2032, 1, 2), []string{"end_date"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireFields := func(err error) {
				t.Helper()
				require.Equal(t, codes.InvalidArgument, codeOf(err))
				var apiErr *apierr.Error
				require.ErrorAs(t, err, &apiErr)
				var fields []string
				for _, v := range apiErr.Violations {
					fields = append(fields, v.Field)
				}
				require.Equal(t, tc.fields, fields)
			}
			_, err := s.GetServiceDailyCost(t.Context(), &cairnv1.GetServiceDailyCostRequest{Name: "services/orders-service", StartDate: tc.start, EndDate: tc.end})
			requireFields(err)
			_, err = s.GetTeamDailyCost(t.Context(), &cairnv1.GetTeamDailyCostRequest{Name: "teams/team-orders", StartDate: tc.start, EndDate: tc.end})
			requireFields(err)
		})
	}
}

func TestDailyCostSpansUpTo366Days(t *testing.T) {
	s, st := newTestServer(t)
	provision(t, st, "orders-service")
	// 2032 is a leap year: 366 days, both ends included.
	resp, err := s.GetServiceDailyCost(t.Context(), &cairnv1.GetServiceDailyCostRequest{
		Name: "services/orders-service", StartDate: ymd(2032, 1, 1), EndDate: ymd(2032, 12, 31),
	})
	require.NoError(t, err)
	require.Len(t, resp.GetDays(), 366)
	require.Equal(t, ymd(2032, 2, 29), resp.GetDays()[59].GetDate())
	require.Equal(t, ymd(2032, 12, 31), resp.GetDays()[365].GetDate())
}
