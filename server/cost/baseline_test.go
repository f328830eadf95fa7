package cost

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/notify"
	"github.com/cairn-dev/cairn/store"
)

// baselineOf is a daily charge of micros[i] on each of the days before
// day, the last one on the day before it.
func baselineOf(service string, day time.Time, micros []int64) []store.BillingRow {
	var rows []store.BillingRow
	for i, m := range micros {
		rows = append(rows, dailyCharge(service, day.AddDate(0, 0, i-len(micros)), m))
	}
	return rows
}

func repeated(micros int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = micros
	}
	return out
}

func TestDailyCostAnomaliesScoreADayAgainstTheTrailing28Days(t *testing.T) {
	onEngines(t, func(t *testing.T, s *Server, st store.Store) {
		now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) // the last complete day
		for _, name := range []string{"flat-spike", "flat-ordinary", "noisy-spike", "noisy-ordinary", "new-service", "quiet-service"} {
			provision(t, st, name)
		}
		// 9, 10, 11 USD in turn over 28 days: by hand, ten 9s, nine 10s and
		// nine 11s, median 10; deviations nineteen 1s and nine 0s, MAD 1.
		noisy := make([]int64, BaselineDays)
		for i := range noisy {
			noisy[i] = int64(9+i%3) * 1_000_000
		}
		var rows []store.BillingRow
		rows = append(rows, baselineOf("flat-spike", day, repeated(10_000_000, BaselineDays))...)
		rows = append(rows, dailyCharge("flat-spike", day, 30_000_000))
		rows = append(rows, baselineOf("flat-ordinary", day, repeated(10_000_000, BaselineDays))...)
		rows = append(rows, dailyCharge("flat-ordinary", day, 10_050_000)) // 0.5% above: within 1%
		rows = append(rows, baselineOf("noisy-spike", day, noisy)...)
		rows = append(rows, dailyCharge("noisy-spike", day, 20_000_000)) // 0.6745 x 10 / 1 = 6.745
		rows = append(rows, baselineOf("noisy-ordinary", day, noisy)...)
		rows = append(rows, dailyCharge("noisy-ordinary", day, 14_000_000)) // 0.6745 x 4 / 1 = 2.698
		rows = append(rows, baselineOf("new-service", day, repeated(1_000_000, MinBaselineDays-1))...)
		rows = append(rows, dailyCharge("new-service", day, 90_000_000))                                 // 13 days: not judged
		rows = append(rows, baselineOf("quiet-service", day, noisy)...)                                  // no billing on the day
		rows = append(rows, dailyCharge("noisy-spike", day.AddDate(0, 0, -BaselineDays-1), 500_000_000)) // before the window
		importRows(t, st, rows)

		resp, err := s.ListDailyCostAnomalies(t.Context(), &cairnv1.ListDailyCostAnomaliesRequest{})
		require.NoError(t, err)
		require.Equal(t, ymd(2026, 12, 7), resp.GetDate())
		require.Equal(t, "USD", resp.GetCurrency())
		require.Equal(t, int32(1), resp.GetUnscoredServiceCount(), "new-service has 13 days with billing")
		require.Len(t, resp.GetAnomalies(), 2)

		spike := resp.GetAnomalies()[0]
		require.Equal(t, "noisy-spike", spike.GetServiceName())
		require.Equal(t, "team-orders", spike.GetTeam())
		require.InDelta(t, 20.0, spike.GetCost(), 1e-9)
		require.InDelta(t, 10.0, spike.GetBaselineMedian(), 1e-9)
		require.InDelta(t, 1.0, spike.GetBaselineMad(), 1e-9)
		require.NotNil(t, spike.ModifiedZScore)
		require.InDelta(t, 6.745, spike.GetModifiedZScore(), 1e-9)
		require.Equal(t, int32(BaselineDays), spike.GetBaselineDayCount(), "the row before the window is not in the baseline")

		flat := resp.GetAnomalies()[1]
		require.Equal(t, "flat-spike", flat.GetServiceName())
		require.True(t, flat.GetFlatBaseline())
		require.Nil(t, flat.ModifiedZScore, "MAD zero: no score, rather than a division by zero")
		require.InDelta(t, 0.0, flat.GetBaselineMad(), 1e-9)
		require.InDelta(t, 10.0, flat.GetBaselineMedian(), 1e-9)

		// The same day asked for by date; the day after has no billing at all.
		byDate, err := s.ListDailyCostAnomalies(t.Context(), &cairnv1.ListDailyCostAnomaliesRequest{Date: ymd(2026, 12, 7), PageSize: 1})
		require.NoError(t, err)
		require.Len(t, byDate.GetAnomalies(), 1)
		require.Equal(t, "noisy-spike", byDate.GetAnomalies()[0].GetServiceName())
		next, err := s.ListDailyCostAnomalies(t.Context(), &cairnv1.ListDailyCostAnomaliesRequest{Date: ymd(2026, 12, 7), PageSize: 1, PageToken: byDate.GetNextPageToken()})
		require.NoError(t, err)
		require.Equal(t, "flat-spike", next.GetAnomalies()[0].GetServiceName())
		require.Empty(t, next.GetNextPageToken())
		after, err := s.ListDailyCostAnomalies(t.Context(), &cairnv1.ListDailyCostAnomaliesRequest{Date: ymd(2026, 12, 8)})
		require.NoError(t, err)
		require.Empty(t, after.GetAnomalies())
	})
}

func TestDailyCostAnomaliesRefuseAnInvalidDate(t *testing.T) {
	s, _ := newTestServer(t)
	_, err := s.ListDailyCostAnomalies(t.Context(), &cairnv1.ListDailyCostAnomaliesRequest{Date: ymd(2026, 2, 30)})
	require.Equal(t, "InvalidArgument", codeOf(err).String())
}

func TestDailyAnomalyAlertsTellTheTeamOncePerServiceDay(t *testing.T) {
	onEngines(t, func(t *testing.T, s *Server, st store.Store) {
		now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		provision(t, st, "orders-service")
		rows := baselineOf("orders-service", day, repeated(10_000_000, BaselineDays))
		importRows(t, st, append(rows, dailyCharge("orders-service", day, 30_000_000)))

		got, err := s.DailyAnomalyAlerts().Events(t.Context())
		require.NoError(t, err)
		require.Equal(t, []notify.Event{{
			Key: "daily-cost-anomaly/orders-service/2026-12-07", Kind: "daily_cost_anomaly",
			Team: "team-orders", Service: "orders-service",
			Title: "Daily cost anomaly: orders-service, 2026-12-07",
			Text: "orders-service was billed 30.00 USD on 2026-12-07 against a median of 10.00 USD over its 28 days with billing before" +
				" (it cost the same on at least half of them).",
			Recipient: "group:default/team-orders",
		}}, got)

		now = now.AddDate(0, 0, 1) // the next day has no billing: nothing new to tell
		got, err = s.DailyAnomalyAlerts().Events(t.Context())
		require.NoError(t, err)
		require.Empty(t, got)
	})
}
