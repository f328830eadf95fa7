package delivery

// The DORA read benchmark: a team's metrics over an organisation of
// 1,000,000 deployments and 100,000 incidents, by Cairn's service, beside
// the same numbers from one straightforward SQL query over the raw events,
// as Four Keys computes them, on each engine. Figures are in BENCHMARKS.md.
//
//	go test -run XXX -bench BenchmarkTeamDora -benchtime 200x -count 3 ./server/delivery/

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// The organisation the benchmark seeds: a year of events up to now, from
// benchServices services in teams of ten. Each service deploys every
// 52.56 minutes, to production and staging in turn; a tenth of the
// deployments fail; each ships 0 to 4 commits made a minute to three days
// before it finished. Each service has an incident every 8.76 hours,
// lasting five minutes to two days; one in twenty is still open, and two in
// five name a production deployment of the service as its cause.
const (
	benchDeployments = 1_000_000
	benchIncidents   = 100_000
	benchServices    = 100
	benchTeam        = "team-3"
	benchWindow      = "30d"
)

// benchEngine is a seeded store and a connection around it, for the
// straightforward query.
type benchEngine struct {
	store store.Store
	// straightforward computes a team's DORA numbers over [from, to) in one
	// query over the raw events.
	straightforward func(ctx context.Context, team string, from, to time.Time) (rawDora, error)
}

// rawDora is what the straightforward query returns.
type rawDora struct {
	succeeded, deployments, failures, commits, incidents int64
	medianLeadTime, medianRestoreTime                    float64 // seconds
}

func BenchmarkTeamDora(b *testing.B) {
	seeded := []struct {
		name string
		seed func(b *testing.B) benchEngine
	}{
		{"sqlite", seedSQLite},
		{"postgres", seedPostgres},
	}
	for _, engine := range seeded {
		b.Run(engine.name, func(b *testing.B) {
			started := time.Now()
			e := engine.seed(b)
			b.Logf("seeded %d deployments and %d incidents in %s", benchDeployments, benchIncidents, time.Since(started).Round(time.Millisecond))
			s, _ := newService(e.store)
			ctx := b.Context()

			dora, err := s.TeamDora(ctx, benchTeam, benchWindow)
			require.NoError(b, err)
			requireSameNumbers(b, e, dora)
			b.Logf("%s over %s: %d production deployments, %d commits, %d resolved incidents",
				benchTeam, benchWindow, dora.ChangeFailureRate.Samples, dora.LeadTimeForChanges.Samples, dora.TimeToRestore.Samples)

			// The two run in turn, each op once, so that both meet the same
			// load from whatever else the machine runs.
			b.Run("cairn-vs-straightforward-sql", func(b *testing.B) {
				before := dora.Window.previous()
				var cairn, straightforward []time.Duration
				for b.Loop() {
					start := time.Now()
					_, err := s.TeamDora(ctx, benchTeam, benchWindow)
					require.NoError(b, err)
					cairn = append(cairn, time.Since(start))

					start = time.Now()
					_, err = e.straightforward(ctx, benchTeam, dora.Window.Start, dora.Window.End)
					require.NoError(b, err)
					_, err = e.straightforward(ctx, benchTeam, before.Start, before.End)
					require.NoError(b, err)
					straightforward = append(straightforward, time.Since(start))
				}
				cairnP50, cairnP95 := percentiles(cairn)
				sqlP50, sqlP95 := percentiles(straightforward)
				b.ReportMetric(cairnP50, "cairn-p50-ms")
				b.ReportMetric(cairnP95, "cairn-p95-ms")
				b.ReportMetric(sqlP50, "sql-p50-ms")
				b.ReportMetric(sqlP95, "sql-p95-ms")
				b.ReportMetric(sqlP50/cairnP50, "speedup-p50-x")
			})

			// The drill-down behind the figures: the first page (50) of the
			// team's deployments, with their commits and charged incidents,
			// and of its incidents, over the same 30 days.
			b.Run("drill-down-first-pages", func(b *testing.B) {
				parent := teamPrefix + benchTeam
				var deployments, incidents []time.Duration
				for b.Loop() {
					start := time.Now()
					page, _, err := s.ListDeployments(ctx, parent, DeploymentFilter{}, 0, "")
					require.NoError(b, err)
					require.Len(b, page, 50)
					deployments = append(deployments, time.Since(start))

					start = time.Now()
					charged, _, err := s.ListIncidents(ctx, parent, IncidentFilter{}, 0, "")
					require.NoError(b, err)
					require.Len(b, charged, 50)
					incidents = append(incidents, time.Since(start))
				}
				deploymentsP50, deploymentsP95 := percentiles(deployments)
				incidentsP50, incidentsP95 := percentiles(incidents)
				b.ReportMetric(deploymentsP50, "deployments-p50-ms")
				b.ReportMetric(deploymentsP95, "deployments-p95-ms")
				b.ReportMetric(incidentsP50, "incidents-p50-ms")
				b.ReportMetric(incidentsP95, "incidents-p95-ms")
			})
		})
	}
}

// percentiles are the median and 95th percentile of ds, in milliseconds.
func percentiles(ds []time.Duration) (p50, p95 float64) {
	slices.Sort(ds)
	at := func(p float64) float64 {
		return float64(ds[int(p*float64(len(ds)-1))]) / float64(time.Millisecond)
	}
	return at(0.5), at(0.95)
}

// requireSameNumbers fails unless the straightforward query gives the
// numbers Cairn gave, for the window and the one before.
func requireSameNumbers(b *testing.B, e benchEngine, dora Dora) {
	b.Helper()
	for _, window := range []struct {
		w                                             Window
		frequency, leadTime, failureRate, restoreTime float64
	}{
		{dora.Window, dora.DeploymentFrequency.Value, dora.LeadTimeForChanges.Value, dora.ChangeFailureRate.Value, dora.TimeToRestore.Value},
		{dora.Window.previous(), dora.DeploymentFrequency.Previous, dora.LeadTimeForChanges.Previous, dora.ChangeFailureRate.Previous, dora.TimeToRestore.Previous},
	} {
		raw, err := e.straightforward(b.Context(), benchTeam, window.w.Start, window.w.End)
		require.NoError(b, err)
		require.NotZero(b, raw.commits)
		require.NotZero(b, raw.incidents)
		require.InDelta(b, float64(raw.succeeded)/float64(window.w.Days), window.frequency, 1e-9, "deployment frequency")
		require.InDelta(b, raw.medianLeadTime, window.leadTime, 1e-6, "lead time")
		require.InDelta(b, float64(raw.failures)/float64(raw.deployments), window.failureRate, 1e-9, "change failure rate")
		require.InDelta(b, raw.medianRestoreTime, window.restoreTime, 1e-6, "time to restore")
	}
}

// addBenchServices adds the benchmark's services to the catalog, ten to a
// team.
func addBenchServices(b *testing.B, st store.Store) {
	for i := range benchServices {
		team := fmt.Sprintf("team-%d", i/10)
		_, _, err := st.UpsertService(b.Context(), &store.Service{
			Name: fmt.Sprintf("svc-%03d", i), Owner: "group:default/" + team, Team: team, Type: "service", Lifecycle: "production",
		}, "")
		require.NoError(b, err)
	}
}

// The seed's shape, in SQL: hash(n, salt) is a pseudo-random 32-bit
// number of row n (Fibonacci hashing), and pick(n, salt, k) one of 0 to
// k-1 from it, for k below 2^31 so that nothing overflows 64 bits. Times
// are offsets in microseconds from a year before now.
const (
	benchYearMicros   = 365 * 24 * 3600 * 1_000_000
	deploySpacingUs   = benchYearMicros / (benchDeployments / benchServices)
	incidentSpacingUs = benchYearMicros / (benchIncidents / benchServices)
)

func hashSQL(n string, salt int) string {
	return fmt.Sprintf("((((%s) + %d) * 2654435761) %% 4294967296)", n, salt)
}

func pickSQL(n string, salt, k int) string {
	return fmt.Sprintf("((%s * %d) >> 32)", hashSQL(n, salt), k)
}

// seedSQL is the seed in the dialect of an engine: how it numbers rows,
// names services and turns microsecond offsets into its times.
func seedSQL(series func(count int) string, serviceName, timeOf func(micros string) string) []string {
	finished := fmt.Sprintf("((n / %d) * %d + %s * 1000000)", benchServices, deploySpacingUs, pickSQL("n", 1, deploySpacingUs/1_000_000))
	duration := fmt.Sprintf("(60 + %s) * 1000000", pickSQL("n", 2, 600))
	opened := fmt.Sprintf("((n / %d) * %d + (3600 + %s) * 1000000)", benchServices, incidentSpacingUs, pickSQL("n", 5, 3600))
	restore := fmt.Sprintf("(300 + %s) * 1000000", pickSQL("n", 6, 172_800))
	// The deployment an incident names: the service's production one
	// nearest before it opened (it deploys ten times for each incident,
	// and every other deployment goes to production).
	namedDeployment := fmt.Sprintf("((n / %d) * %d + n %% %d)",
		benchServices, benchDeployments/benchIncidents*benchServices, benchServices)
	return []string{
		fmt.Sprintf(`INSERT INTO deployments (service, environment, revision, status, started_at, finished_at, caused_incident, recorded_at)
SELECT %s,
       CASE WHEN (n / %d) %% 2 = 0 THEN 'production' ELSE 'staging' END,
       'r' || n,
       CASE WHEN %s = 0 THEN 'failed' ELSE 'succeeded' END,
       %s, %s, false, %s
FROM %s`,
			serviceName("n % "+fmt.Sprint(benchServices)), benchServices, pickSQL("n", 3, 10),
			timeOf(finished+" - "+duration), timeOf(finished), timeOf(finished), series(benchDeployments)),
		// The incidents that name no revision are left charged to none, as
		// if recorded before Cairn charged by time: the straightforward
		// query counts the named ones only.
		fmt.Sprintf(`INSERT INTO incidents (id, service, opened_at, resolved_at, cause_revision, recorded_at, charge_link)
SELECT 'INC-' || n, %s, %s,
       CASE WHEN %s = 0 THEN NULL ELSE %s END,
       CASE WHEN %s < 2 THEN 'r' || %s ELSE '' END,
       %s,
       CASE WHEN %s < 2 THEN 'named' ELSE '' END
FROM %s`,
			serviceName("n % "+fmt.Sprint(benchServices)), timeOf(opened),
			pickSQL("n", 7, 20), timeOf(opened+" + "+restore),
			pickSQL("n", 8, 5), namedDeployment,
			timeOf(opened), pickSQL("n", 8, 5), series(benchIncidents)),
	}
}

func seedSQLite(b *testing.B) benchEngine {
	path := filepath.Join(b.TempDir(), "cairn.db")
	st, err := sqlite.Open(b.Context(), path)
	require.NoError(b, err)
	b.Cleanup(func() { st.Close() })
	require.NoError(b, st.Migrate(b.Context()))
	addBenchServices(b, st)

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	t0 := now.AddDate(0, 0, -365).UnixMicro()
	statements := seedSQL(
		func(count int) string {
			return fmt.Sprintf("(WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < %d) SELECT n FROM seq)", count-1)
		},
		func(n string) string { return fmt.Sprintf("printf('svc-%%03d', %s)", n) },
		func(micros string) string { return fmt.Sprintf("(%d + %s)", t0, micros) },
	)
	statements = append(statements,
		fmt.Sprintf(`INSERT INTO deployment_commits (deployment_id, sha, committed_at)
SELECT d.id, printf('%%x', d.id * 8 + j.j), d.finished_at - (60 + %s) * 1000000
FROM deployments d
JOIN (SELECT 0 AS j UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) j ON j.j < %s`,
			pickSQL("d.id * 8 + j.j", 9, 259_200), pickSQL("d.id", 10, 5)),
		`UPDATE deployments SET caused_incident = 1
WHERE (service, revision) IN (SELECT service, cause_revision FROM incidents WHERE cause_revision <> '')`,
		`INSERT INTO deployment_days (service, environment, day, succeeded, failed, incident_causing, lead_times)
SELECT service, environment, finished_at - ((finished_at % 86400000000) + 86400000000) % 86400000000,
       SUM(status = 'succeeded'), SUM(status = 'failed'), SUM(status = 'succeeded' AND caused_incident), x''
FROM deployments GROUP BY 1, 2, 3`,
	)
	tx, err := db.BeginTx(b.Context(), nil)
	require.NoError(b, err)
	defer tx.Rollback()
	for _, stmt := range statements {
		_, err := tx.ExecContext(b.Context(), stmt)
		require.NoError(b, err, stmt)
	}
	seedSQLiteLeadTimes(b, tx)
	require.NoError(b, tx.Commit())

	return benchEngine{store: st, straightforward: func(ctx context.Context, team string, from, to time.Time) (rawDora, error) {
		var r rawDora
		var lead, restore sql.NullFloat64
		err := db.QueryRowContext(ctx, sqliteStraightforward, team, from.UnixMicro(), to.UnixMicro()).Scan(
			&r.succeeded, &r.deployments, &r.failures, &lead, &r.commits, &restore, &r.incidents)
		r.medianLeadTime, r.medianRestoreTime = lead.Float64/1e6, restore.Float64/1e6
		return r, err
	}}
}

// seedSQLiteLeadTimes fills deployment_days.lead_times, which SQL cannot
// encode, as the store does: each day's successful deployments' commits'
// lead times, 8-byte big-endian microseconds.
func seedSQLiteLeadTimes(b *testing.B, tx *sql.Tx) {
	rows, err := tx.QueryContext(b.Context(), `
SELECT d.service, d.environment, d.finished_at - ((d.finished_at % 86400000000) + 86400000000) % 86400000000,
       d.finished_at - c.committed_at
FROM deployments d JOIN deployment_commits c ON c.deployment_id = d.id
WHERE d.status = 'succeeded'
ORDER BY d.service, d.environment, d.finished_at`)
	require.NoError(b, err)
	defer rows.Close()
	update, err := tx.PrepareContext(b.Context(), `UPDATE deployment_days SET lead_times = ? WHERE service = ? AND environment = ? AND day = ?`)
	require.NoError(b, err)
	defer update.Close()
	type dayKey struct {
		service, environment string
		day                  int64
	}
	var (
		key   dayKey
		leads []byte
	)
	flush := func() {
		if leads != nil {
			_, err := update.ExecContext(b.Context(), leads, key.service, key.environment, key.day)
			require.NoError(b, err)
		}
	}
	for rows.Next() {
		var next dayKey
		var lead int64
		require.NoError(b, rows.Scan(&next.service, &next.environment, &next.day, &lead))
		if next != key {
			flush()
			key, leads = next, []byte{}
		}
		leads = binary.BigEndian.AppendUint64(leads, uint64(lead))
	}
	require.NoError(b, rows.Err())
	flush()
}

// sqliteStraightforward computes a team's DORA numbers over [?2, ?3) from
// the raw events, as one would by the definitions: the team's production
// deployments in the window joined with their commits and with the
// incidents naming them, medians by ordering. It reads nothing Cairn
// derives as events arrive (deployment_days, caused_incident), but may use
// every index Cairn keeps.
const sqliteStraightforward = `
WITH team_deployments AS (
    SELECT d.id, d.service, d.revision, d.status, d.finished_at
    FROM deployments d JOIN services s ON s.name = d.service
    WHERE s.team = ?1 AND d.environment = 'production' AND d.finished_at >= ?2 AND d.finished_at < ?3
),
lead_times AS (
    SELECT t.finished_at - c.committed_at AS lead_time
    FROM team_deployments t JOIN deployment_commits c ON c.deployment_id = t.id
    WHERE t.status = 'succeeded'
),
restore_times AS (
    SELECT i.resolved_at - i.opened_at AS restore_time
    FROM incidents i JOIN services s ON s.name = i.service
    WHERE s.team = ?1 AND i.resolved_at >= ?2 AND i.resolved_at < ?3
)
SELECT
    (SELECT count(*) FROM team_deployments WHERE status = 'succeeded'),
    (SELECT count(*) FROM team_deployments),
    (SELECT count(*) FROM team_deployments t
     WHERE t.status = 'failed'
        OR EXISTS (SELECT 1 FROM incidents i WHERE i.service = t.service AND i.cause_revision = t.revision)),
    (SELECT avg(lead_time) FROM (
        SELECT lead_time FROM lead_times ORDER BY lead_time
        LIMIT 2 - (SELECT count(*) FROM lead_times) % 2
        OFFSET ((SELECT count(*) FROM lead_times) - 1) / 2)),
    (SELECT count(*) FROM lead_times),
    (SELECT avg(restore_time) FROM (
        SELECT restore_time FROM restore_times ORDER BY restore_time
        LIMIT 2 - (SELECT count(*) FROM restore_times) % 2
        OFFSET ((SELECT count(*) FROM restore_times) - 1) / 2)),
    (SELECT count(*) FROM restore_times)`

func seedPostgres(b *testing.B) benchEngine {
	url := pgtest.Shared(b).NewDatabase(b)
	st, err := postgres.Open(b.Context(), url)
	require.NoError(b, err)
	b.Cleanup(func() { st.Close() })
	require.NoError(b, st.Migrate(b.Context()))
	addBenchServices(b, st)

	conn, err := pgx.Connect(b.Context(), url)
	require.NoError(b, err)
	b.Cleanup(func() { conn.Close(context.Background()) })
	t0 := now.AddDate(0, 0, -365).Format(time.RFC3339)
	statements := seedSQL(
		func(count int) string { return fmt.Sprintf("generate_series(0, %d) AS n", count-1) },
		func(n string) string { return fmt.Sprintf("'svc-' || lpad((%s)::text, 3, '0')", n) },
		func(micros string) string {
			return fmt.Sprintf("(timestamptz '%s' + (%s) * interval '1 microsecond')", t0, micros)
		},
	)
	const day = "CAST(date_trunc('day', d.finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS timestamptz)"
	statements = append(statements,
		fmt.Sprintf(`INSERT INTO deployment_commits (deployment_id, sha, committed_at)
SELECT d.id, to_hex(d.id * 8 + j), d.finished_at - (60 + %s) * interval '1 second'
FROM deployments d JOIN generate_series(0, 3) AS j ON j < %s`,
			pickSQL("d.id * 8 + j", 9, 259_200), pickSQL("d.id", 10, 5)),
		`UPDATE deployments d SET caused_incident = true
FROM incidents i WHERE i.service = d.service AND i.cause_revision = d.revision`,
		`INSERT INTO deployment_days (service, environment, day, succeeded, failed, incident_causing, lead_times)
SELECT d.service, d.environment, `+day+`,
       count(*) FILTER (WHERE d.status = 'succeeded'), count(*) FILTER (WHERE d.status = 'failed'),
       count(*) FILTER (WHERE d.status = 'succeeded' AND d.caused_incident), ''::bytea
FROM deployments d GROUP BY 1, 2, 3`,
		`UPDATE deployment_days SET lead_times = l.lead_times
FROM (
    SELECT d.service, d.environment, `+day+` AS day,
           string_agg(int8send((extract(epoch FROM d.finished_at - c.committed_at) * 1000000)::bigint), ''::bytea) AS lead_times
    FROM deployments d JOIN deployment_commits c ON c.deployment_id = d.id
    WHERE d.status = 'succeeded'
    GROUP BY 1, 2, 3
) l
WHERE deployment_days.service = l.service AND deployment_days.environment = l.environment AND deployment_days.day = l.day`,
	)
	tx, err := conn.Begin(b.Context())
	require.NoError(b, err)
	defer tx.Rollback(context.Background())
	for _, stmt := range statements {
		_, err := tx.Exec(b.Context(), stmt)
		require.NoError(b, err, stmt)
	}
	require.NoError(b, tx.Commit(b.Context()))
	// As autovacuum would, given time: statistics for the planner, and the
	// visibility map that index-only scans need.
	_, err = conn.Exec(b.Context(), `VACUUM ANALYZE`)
	require.NoError(b, err)

	return benchEngine{store: st, straightforward: func(ctx context.Context, team string, from, to time.Time) (rawDora, error) {
		var r rawDora
		var lead, restore *float64
		err := conn.QueryRow(ctx, postgresStraightforward, team, from, to).Scan(
			&r.succeeded, &r.deployments, &r.failures, &lead, &r.commits, &restore, &r.incidents)
		if lead != nil {
			r.medianLeadTime = *lead
		}
		if restore != nil {
			r.medianRestoreTime = *restore
		}
		return r, err
	}}
}

// postgresStraightforward is sqliteStraightforward with PostgreSQL's
// percentile_cont for the medians.
const postgresStraightforward = `
WITH team_deployments AS (
    SELECT d.id, d.service, d.revision, d.status, d.finished_at
    FROM deployments d JOIN services s ON s.name = d.service
    WHERE s.team = $1 AND d.environment = 'production' AND d.finished_at >= $2 AND d.finished_at < $3
),
lead_times AS (
    SELECT extract(epoch FROM t.finished_at - c.committed_at) AS lead_time
    FROM team_deployments t JOIN deployment_commits c ON c.deployment_id = t.id
    WHERE t.status = 'succeeded'
),
restore_times AS (
    SELECT extract(epoch FROM i.resolved_at - i.opened_at) AS restore_time
    FROM incidents i JOIN services s ON s.name = i.service
    WHERE s.team = $1 AND i.resolved_at >= $2 AND i.resolved_at < $3
)
SELECT
    (SELECT count(*) FROM team_deployments WHERE status = 'succeeded'),
    (SELECT count(*) FROM team_deployments),
    (SELECT count(*) FROM team_deployments t
     WHERE t.status = 'failed'
        OR EXISTS (SELECT 1 FROM incidents i WHERE i.service = t.service AND i.cause_revision = t.revision)),
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lead_time) FROM lead_times),
    (SELECT count(*) FROM lead_times),
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY restore_time) FROM restore_times),
    (SELECT count(*) FROM restore_times)`
