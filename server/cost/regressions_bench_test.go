package cost

// The cost regression benchmark: a team of 10 services with a year of
// deployments, seeded as the DORA benchmark seeds them (server/delivery:
// one every 52.56 minutes per service, to production and staging in turn,
// one in ten failed), and a year of daily billing, on each engine. Cairn's
// Rate (two store reads a service) is timed beside the straightforward
// way: the changes, then one billing query per change. Figures are in
// BENCHMARKS.md.
//
//	go test -run XXX -bench BenchmarkCostRegressions -benchtime 100x -count 3 ./server/cost/

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/sqlite"
)

const (
	benchServices    = 10
	benchDeployments = 100_000 // a year of the DORA benchmark's pace for 10 services
	benchTeam        = "team-bench"
	benchYearMicros  = 365 * 24 * 3600 * 1_000_000
	deploySpacingUs  = benchYearMicros / (benchDeployments / benchServices)
	benchWindowDays  = 30 // DORA's default window, which the rate covers
)

// hashSQL and pickSQL are the DORA benchmark's deterministic jitter: a
// multiplicative hash of n, and k values picked from it.
func hashSQL(n string, salt int) string {
	return fmt.Sprintf("((((%s) + %d) * 2654435761) %% 4294967296)", n, salt)
}

func pickSQL(n string, salt, k int) string {
	return fmt.Sprintf("((%s * %d) >> 32)", hashSQL(n, salt), k)
}

// deploymentsSQL inserts the year of deployments, as the DORA benchmark's
// seedSQL does.
func deploymentsSQL(series string, serviceName, timeOf func(string) string) string {
	finished := fmt.Sprintf("((n / %d) * %d + %s * 1000000)", benchServices, deploySpacingUs, pickSQL("n", 1, deploySpacingUs/1_000_000))
	duration := fmt.Sprintf("(60 + %s) * 1000000", pickSQL("n", 2, 600))
	return fmt.Sprintf(`INSERT INTO deployments (service, environment, revision, status, started_at, finished_at, caused_incident, recorded_at)
SELECT %s,
       CASE WHEN (n / %d) %% 2 = 0 THEN 'production' ELSE 'staging' END,
       'r' || n,
       CASE WHEN %s = 0 THEN 'failed' ELSE 'succeeded' END,
       %s, %s, false, %s
FROM %s`,
		serviceName(fmt.Sprintf("n %% %d", benchServices)), benchServices, pickSQL("n", 3, 10),
		timeOf(finished+" - "+duration), timeOf(finished), timeOf(finished), series)
}

// benchBilling is a year of daily billing up to yesterday: each service
// billed on four resources a day, its cost a fifth higher every other ten
// days, so that some changes are regressions.
func benchBilling(today time.Time) []store.BillingRow {
	var rows []store.BillingRow
	for i := range benchServices {
		service := fmt.Sprintf("bench-%02d", i)
		for d := 366; d >= 1; d-- {
			day := today.AddDate(0, 0, -d)
			perDay := int64(100+10*i) * 1_000_000
			if (d/10)%2 == 1 {
				perDay += perDay / 5
			}
			for r := range 4 {
				row := dailyCharge(service, day.Add(time.Duration(r)*time.Hour), perDay/4)
				row.ResourceID = fmt.Sprintf("%s-r%d", service, r)
				rows = append(rows, row)
			}
		}
	}
	return rows
}

// seedBenchStore migrates st, adds the team's services and billing, and
// has seedDeployments insert the deployments.
func seedBenchStore(b *testing.B, st store.Store, today time.Time, seedDeployments func()) {
	require.NoError(b, st.Migrate(b.Context()))
	for i := range benchServices {
		_, _, err := st.UpsertService(b.Context(), &store.Service{
			Name: fmt.Sprintf("bench-%02d", i), Owner: "group:default/" + benchTeam, Team: benchTeam, Type: "service", Lifecycle: "production",
		}, "")
		require.NoError(b, err)
	}
	_, err := st.ReplaceBilling(b.Context(), "bench", func(yield func(store.BillingRow, error) bool) {
		for _, row := range benchBilling(today) {
			if !yield(row, nil) {
				return
			}
		}
	})
	require.NoError(b, err)
	seedDeployments()
}

func BenchmarkCostRegressions(b *testing.B) {
	now := time.Now().UTC()
	today := utcDay(now)
	t0 := now.AddDate(0, 0, -365)
	engines := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			path := filepath.Join(b.TempDir(), "cairn.db")
			st, err := sqlite.Open(b.Context(), path)
			require.NoError(b, err)
			b.Cleanup(func() { st.Close() })
			seedBenchStore(b, st, today, func() {
				db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
				require.NoError(b, err)
				defer db.Close()
				_, err = db.ExecContext(b.Context(), deploymentsSQL(
					fmt.Sprintf("(WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < %d) SELECT n FROM seq)", benchDeployments-1),
					func(n string) string { return fmt.Sprintf("printf('bench-%%02d', %s)", n) },
					func(micros string) string { return fmt.Sprintf("(%d + %s)", t0.UnixMicro(), micros) },
				))
				require.NoError(b, err)
			})
			return st
		}},
		{"postgres", func(b *testing.B) store.Store {
			url := pgtest.New(b).NewDatabase(b)
			st, err := postgres.Open(b.Context(), url)
			require.NoError(b, err)
			b.Cleanup(func() { st.Close() })
			seedBenchStore(b, st, today, func() {
				conn, err := pgx.Connect(b.Context(), url)
				require.NoError(b, err)
				defer conn.Close(context.Background())
				_, err = conn.Exec(b.Context(), deploymentsSQL(
					fmt.Sprintf("generate_series(0, %d) AS n", benchDeployments-1),
					func(n string) string { return fmt.Sprintf("'bench-' || lpad((%s)::text, 2, '0')", n) },
					func(micros string) string {
						return fmt.Sprintf("(timestamptz '%s' + (%s) * interval '1 microsecond')", t0.Format(time.RFC3339Nano), micros)
					},
				))
				require.NoError(b, err)
			})
			return st
		}},
	}
	for _, engine := range engines {
		b.Run(engine.name, func(b *testing.B) {
			st := engine.open(b)
			ctx := b.Context()
			services, err := st.ServiceNames(ctx, benchTeam)
			require.NoError(b, err)
			r := NewRegressions(st, DefaultConfig(), []string{"production"})
			r.now = func() time.Time { return now }
			from, to := now.AddDate(0, 0, -benchWindowDays), now

			rate, err := r.Rate(ctx, services, from, to)
			require.NoError(b, err)
			straight, err := straightforwardRate(ctx, r, st, services, from, to)
			require.NoError(b, err)
			require.Equal(b, rate, straight, "the straightforward way gives the same counts")
			require.NotZero(b, rate.Regressions)
			b.Logf("%s over %dd: %d changes, %d with a verdict, %d regressions", benchTeam, benchWindowDays, rate.Changes, rate.Judged, rate.Regressions)

			// The two run in turn, each op once, so that both meet the same
			// load from whatever else the machine runs.
			var cairn, straightforward []time.Duration
			for b.Loop() {
				start := time.Now()
				_, err := r.Rate(ctx, services, from, to)
				require.NoError(b, err)
				cairn = append(cairn, time.Since(start))

				start = time.Now()
				_, err = straightforwardRate(ctx, r, st, services, from, to)
				require.NoError(b, err)
				straightforward = append(straightforward, time.Since(start))
			}
			cairnP50, cairnP95 := benchPercentiles(cairn)
			sqlP50, sqlP95 := benchPercentiles(straightforward)
			b.ReportMetric(cairnP50, "cairn-p50-ms")
			b.ReportMetric(cairnP95, "cairn-p95-ms")
			b.ReportMetric(sqlP50, "sql-p50-ms")
			b.ReportMetric(sqlP95, "sql-p95-ms")
			b.ReportMetric(sqlP50/cairnP50, "speedup-p50-x")
		})
	}
}

// straightforwardRate is the obvious way: list the changes, then for each
// one query its service's billing over its two windows, and judge it by
// the same rule.
func straightforwardRate(ctx context.Context, r *Regressions, st store.Store, services []string, from, to time.Time) (delivery.CostRegressionRate, error) {
	changes, err := st.ListChanges(ctx, services, r.production, from, to)
	if err != nil {
		return delivery.CostRegressionRate{}, err
	}
	today := utcDay(r.now())
	n := r.config.Days
	rate := delivery.CostRegressionRate{Changes: int64(len(changes))}
	for _, c := range changes {
		d := utcDay(c.Time)
		s := &billedSeries{from: d.AddDate(0, 0, -n), to: minTime(d.AddDate(0, 0, 1+n), today)}
		if s.to.After(s.from) {
			days, err := st.DailyBilling(ctx, []string{c.Service}, s.from, s.to)
			if err != nil {
				return delivery.CostRegressionRate{}, err
			}
			s.fill(days, r.currency)
		}
		judged := r.judge(c, s, today)
		if judged.Judged() {
			rate.Judged++
		}
		if judged.Verdict == VerdictRegression {
			rate.Regressions++
		}
	}
	return rate, nil
}

func benchPercentiles(ds []time.Duration) (p50, p95 float64) {
	slices.Sort(ds)
	at := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))]) / float64(time.Millisecond) }
	return at(0.5), at(0.95)
}
