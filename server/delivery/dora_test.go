package delivery

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/sqlite"
)

func TestMain(m *testing.M) { kubetest.Run(func() { pgtest.Main(m) }) }

// engines are the stores the tests run on: a fresh, migrated one per call.
var engines = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func openSQLite(tb testing.TB) store.Store {
	st, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "cairn.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { st.Close() })
	require.NoError(tb, st.Migrate(tb.Context()))
	return st
}

func openPostgres(tb testing.TB) store.Store {
	st, err := postgres.Open(tb.Context(), pgtest.Shared(tb).NewDatabase(tb))
	require.NoError(tb, err)
	tb.Cleanup(func() { st.Close() })
	require.NoError(tb, st.Migrate(tb.Context()))
	return st
}

// now is the tests' clock: a Monday noon, UTC. The 30-day window is then
// [1 March 12:00, 31 March 12:00), and the one before it
// [30 January 12:00, 1 March 12:00).
var now = time.Date(2031, 3, 31, 12, 0, 0, 0, time.UTC)

// ago is the time days (and extra) before now.
func ago(days int, extra time.Duration) time.Time {
	return now.Add(-time.Duration(days)*24*time.Hour + extra)
}

// newService is the metrics service over st with the tests' clock,
// counting production in DORA metrics as the default path does, and the
// registry its Prometheus metrics are in.
func newService(st Store) (*Service, *prometheus.Registry) {
	return newServiceCounting(st, "production")
}

// newServiceCounting is newService counting the deployments to the
// production environments instead.
func newServiceCounting(st Store, production ...string) (*Service, *prometheus.Registry) {
	registry := prometheus.NewRegistry()
	s := New(st, NewPrometheus(registry), DefaultEventWindow, entityref.Teams{}, production)
	s.now = func() time.Time { return now }
	return s, registry
}

func addService(t *testing.T, st store.Store, name, team string) {
	t.Helper()
	_, _, err := st.UpsertService(t.Context(), &store.Service{Name: name, Owner: "group:default/" + team, Team: team, Type: "service", Lifecycle: "production"}, "")
	require.NoError(t, err)
}

// prodDeploy is a successful production deployment of service, finished at
// finished after five minutes, of commits made leads before it finished.
func prodDeploy(service, revision string, finished time.Time, leads ...time.Duration) store.Deployment {
	d := store.Deployment{
		Service: service, Environment: "production", Revision: revision, Status: store.DeploymentSucceeded,
		StartedAt: finished.Add(-5 * time.Minute), FinishedAt: finished,
	}
	for i, lead := range leads {
		d.Commits = append(d.Commits, store.Commit{SHA: fmt.Sprintf("%x%02d", revision, i), CommittedAt: finished.Add(-lead)})
	}
	return d
}

func withStatus(d store.Deployment, status string) store.Deployment {
	d.Status = status
	return d
}

func withEnvironment(d store.Deployment, environment string) store.Deployment {
	d.Environment = environment
	return d
}

// recordFixedEvents records the fixed event set of TestDoraOfAFixedEventSet
// through the service, as in-process callers do.
func recordFixedEvents(t *testing.T, st store.Store, s *Service) {
	t.Helper()
	ctx := t.Context()
	addService(t, st, "orders", "team-checkout")
	addService(t, st, "payments", "team-checkout")
	addService(t, st, "cart-idle", "team-checkout") // never deploys
	addService(t, st, "legacy", "team-checkout")    // leaves the catalog
	addService(t, st, "search", "team-search")

	deploy := func(d store.Deployment) {
		t.Helper()
		created, err := s.RecordDeployment(ctx, d)
		require.NoError(t, err)
		require.True(t, created, "%s %s", d.Service, d.Revision)
	}
	incident := func(i store.Incident) {
		t.Helper()
		created, err := s.RecordIncident(ctx, i)
		require.NoError(t, err)
		require.True(t, created, i.ID)
	}

	// orders, this window: four successful production deployments (one
	// without commits, one named by an incident recorded before it), one
	// failed, and one to staging whose revision an incident names.
	incident(store.Incident{ID: "INC-1", Service: "orders", OpenedAt: ago(5, time.Hour), ResolvedAt: ago(5, time.Hour+45*time.Minute), CauseRevision: "o2"})
	deploy(prodDeploy("orders", "o1", ago(2, 0), time.Hour, 3*time.Hour))
	deploy(prodDeploy("orders", "o2", ago(5, 0), 30*time.Minute))
	deploy(withStatus(prodDeploy("orders", "o3", ago(7, 0), 2*time.Hour), store.DeploymentFailed))
	deploy(prodDeploy("orders", "o4", ago(10, 0)))
	deploy(prodDeploy("orders", "o5", ago(20, 0), 26*time.Hour))
	deploy(withEnvironment(prodDeploy("orders", "os", ago(3, 0), 10*time.Minute), "staging"))
	incident(store.Incident{ID: "INC-2", Service: "orders", OpenedAt: ago(3, 0), ResolvedAt: ago(3, 2*time.Hour), CauseRevision: "os"})
	incident(store.Incident{ID: "INC-3", Service: "orders", OpenedAt: ago(1, 0)}) // still open
	// Opened in the window before, resolved in this one.
	incident(store.Incident{ID: "INC-4", Service: "orders", OpenedAt: ago(31, 0), ResolvedAt: ago(29, 0)})
	// Opened and resolved in the window before.
	incident(store.Incident{ID: "INC-5", Service: "orders", OpenedAt: ago(50, 0), ResolvedAt: ago(50, 3*time.Hour)})
	// Recorded open, resolved later.
	incident(store.Incident{ID: "INC-6", Service: "orders", OpenedAt: ago(4, 0)})
	_, err := s.ResolveIncident(ctx, "orders", "INC-6", ago(4, 30*time.Minute))
	require.NoError(t, err)
	// orders, the window before, and before that.
	deploy(prodDeploy("orders", "p1", ago(40, 0), 48*time.Hour))
	deploy(withStatus(prodDeploy("orders", "p2", ago(45, 0)), store.DeploymentFailed))
	deploy(prodDeploy("orders", "p0", ago(70, 0), time.Hour))

	// payments deploys every day of the window, never with commits.
	for i := range 30 {
		deploy(prodDeploy("payments", fmt.Sprintf("pay%d", i), ago(i, -time.Hour)))
	}

	// search deploys once a week, each with a commit made 8 days before.
	for i, days := range []int{1, 8, 15, 22, 29} {
		deploy(prodDeploy("search", fmt.Sprintf("s%d", i), ago(days, 0), 8*24*time.Hour))
	}
	incident(store.Incident{ID: "SRCH-1", Service: "search", OpenedAt: ago(12, 0), ResolvedAt: ago(2, 0)})

	// legacy's events stay recorded, but it left the catalog: no team or
	// the organisation counts them.
	deploy(withStatus(prodDeploy("legacy", "l1", ago(3, 0), time.Hour), store.DeploymentFailed))
	incident(store.Incident{ID: "LEG-1", Service: "legacy", OpenedAt: ago(3, 0), ResolvedAt: ago(2, 0)})
	require.NoError(t, st.DeleteService(ctx, "legacy", ""))
}

// TestDoraOfAFixedEventSet checks the metrics of a fixed set of events
// against values worked out by hand from the definitions in the package
// comment; each expectation says how.
func TestDoraOfAFixedEventSet(t *testing.T) {
	const (
		hour = 3600.0
		day  = 24 * hour
	)
	noData := Metric{Unit: UnitSeconds}
	tests := []struct {
		scope                  string
		read                   func(ctx context.Context, s *Service) (Dora, error)
		frequency, leadTime    Metric
		failureRate, toRestore Metric
	}{
		{
			scope: "services/orders",
			read:  func(ctx context.Context, s *Service) (Dora, error) { return s.ServiceDora(ctx, "orders", "30d") },
			// o1, o2, o4, o5 this window: 4/30 a day, at least once a month
			// (medium); p1 the window before. Deployed on 11, 21, 26 and 29
			// March: weeks from Sunday 23 February hold 0, 0, 1, 1, 2 and 0
			// deployment days, so the median week has none (not weekly),
			// but the weeks of March (all but the first) hold 3 deployed
			// weeks: monthly.
			frequency: Metric{Value: 4.0 / 30, Unit: UnitDeploysPerDay, Band: BandMedium, Previous: 1.0 / 30, FrequencyClass: ClassMonthly, Samples: 4},
			// Commits of o1 (1h, 3h), o2 (30m), o5 (26h); not the failed
			// o3's, nor staging's: median of 30m, 1h, 3h, 26h is 2h (elite).
			// The window before: p1's 48h.
			leadTime: Metric{Value: 2 * hour, Unit: UnitSeconds, Band: BandElite, Previous: 48 * hour, Samples: 4},
			// o3 failed, INC-1 names o2, and INC-3, naming no revision, opened
			// exactly 24 hours after o1 finished: charged to o1 by time (the
			// window includes its ends). Three of five production
			// deployments: 60% (low). INC-6 falls to o2, counted already;
			// INC-2 names a staging deployment: nothing. The window before:
			// p2 failed of two, 50% (INC-4 and INC-5 follow no deployment
			// within a day).
			failureRate: Metric{Value: 0.6, Unit: UnitRatio, Band: BandLow, Previous: 0.5, Samples: 5},
			// Resolved this window: INC-6 30m, INC-1 45m, INC-2 2h, INC-4 48h
			// (opened in the window before, counted whole here); INC-3 is
			// open. Median (45m + 2h) / 2 = 82.5m (high). The window
			// before: INC-5's 3h.
			toRestore: Metric{Value: 82.5 * 60, Unit: UnitSeconds, Band: BandHigh, Previous: 3 * hour, Samples: 4},
		},
		{
			scope: "services/payments",
			read:  func(ctx context.Context, s *Service) (Dora, error) { return s.ServiceDora(ctx, "payments", "") },
			// 30 deployments in 30 days (elite), every day from 2 March:
			// the median week has 7 deployment days, daily.
			frequency: Metric{Value: 1, Unit: UnitDeploysPerDay, Band: BandElite, FrequencyClass: ClassDaily, Samples: 30},
			// No commits: nothing to measure.
			leadTime:    noData,
			failureRate: Metric{Value: 0, Unit: UnitRatio, Band: BandElite, Samples: 30},
			toRestore:   noData,
		},
		{
			scope: "services/cart-idle",
			read:  func(ctx context.Context, s *Service) (Dora, error) { return s.ServiceDora(ctx, "cart-idle", "30d") },
			// No deployments: a frequency of zero is measured (low).
			frequency:   Metric{Value: 0, Unit: UnitDeploysPerDay, Band: BandLow, FrequencyClass: ClassYearly},
			leadTime:    noData,
			failureRate: Metric{Unit: UnitRatio},
			toRestore:   noData,
		},
		{
			scope: "teams/team-search",
			read:  func(ctx context.Context, s *Service) (Dora, error) { return s.TeamDora(ctx, "team-search", "30d") },
			// 5 in 30 days is more than weekly (high); one in each week
			// from 2 March: the median week has a deployment, weekly.
			frequency: Metric{Value: 5.0 / 30, Unit: UnitDeploysPerDay, Band: BandHigh, FrequencyClass: ClassWeekly, Samples: 5},
			// Every commit 8 days: between a week and a month (medium).
			leadTime:    Metric{Value: 8 * day, Unit: UnitSeconds, Band: BandMedium, Samples: 5},
			failureRate: Metric{Value: 0, Unit: UnitRatio, Band: BandElite, Samples: 5},
			// SRCH-1 took 10 days: over a week (low).
			toRestore: Metric{Value: 10 * day, Unit: UnitSeconds, Band: BandLow, Samples: 1},
		},
		{
			scope: "teams/team-checkout",
			read:  func(ctx context.Context, s *Service) (Dora, error) { return s.TeamDora(ctx, "team-checkout", "30d") },
			// orders' 4 and payments' 30 (legacy is no longer the team's):
			// 34/30 a day (elite), daily as payments is.
			frequency: Metric{Value: 34.0 / 30, Unit: UnitDeploysPerDay, Band: BandElite, Previous: 1.0 / 30, FrequencyClass: ClassDaily, Samples: 34},
			// Only orders' commits: as orders.
			leadTime: Metric{Value: 2 * hour, Unit: UnitSeconds, Band: BandElite, Previous: 48 * hour, Samples: 4},
			// orders' 3 failures of 35 deployments: 8.6% (high).
			failureRate: Metric{Value: 3.0 / 35, Unit: UnitRatio, Band: BandHigh, Previous: 0.5, Samples: 35},
			// Only orders' incidents: as orders.
			toRestore: Metric{Value: 82.5 * 60, Unit: UnitSeconds, Band: BandHigh, Previous: 3 * hour, Samples: 4},
		},
		{
			scope:     "the organisation",
			read:      func(ctx context.Context, s *Service) (Dora, error) { return s.OrganizationDora(ctx, "30d") },
			frequency: Metric{Value: 39.0 / 30, Unit: UnitDeploysPerDay, Band: BandElite, Previous: 1.0 / 30, FrequencyClass: ClassDaily, Samples: 39},
			// 30m, 1h, 3h, 26h and search's five 8 days: the fifth of nine
			// is 8 days (medium).
			leadTime: Metric{Value: 8 * day, Unit: UnitSeconds, Band: BandMedium, Previous: 48 * hour, Samples: 9},
			// 3 failures of 40 deployments: 7.5%, high. (SRCH-1 opened 3 days
			// after search's last deployment: charged to none.)
			failureRate: Metric{Value: 3.0 / 40, Unit: UnitRatio, Band: BandHigh, Previous: 0.5, Samples: 40},
			// 30m, 45m, 2h, 48h, 10 days: 2h (high).
			toRestore: Metric{Value: 2 * hour, Unit: UnitSeconds, Band: BandHigh, Previous: 3 * hour, Samples: 5},
		},
	}
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			st := engine.open(t)
			s, _ := newService(st)
			recordFixedEvents(t, st, s)
			for _, tt := range tests {
				t.Run(tt.scope, func(t *testing.T) {
					got, err := tt.read(t.Context(), s)
					require.NoError(t, err)
					require.Equal(t, Window{Days: 30, Start: ago(30, 0), End: now}, got.Window)
					requireMetric(t, tt.frequency, got.DeploymentFrequency, "deployment frequency")
					requireMetric(t, tt.leadTime, got.LeadTimeForChanges, "lead time for changes")
					requireMetric(t, tt.failureRate, got.ChangeFailureRate, "change failure rate")
					requireMetric(t, tt.toRestore, got.TimeToRestore, "time to restore")
				})
			}
			t.Run("AServiceOrTeamNotInTheCatalogIsNotFound", func(t *testing.T) {
				_, err := s.ServiceDora(t.Context(), "legacy", "30d")
				requireCode(t, codes.NotFound, err)
				_, err = s.TeamDora(t.Context(), "team-nobody", "30d")
				requireCode(t, codes.NotFound, err)
			})
		})
	}
}

// recordAll records deployments and incidents through s.
func recordAll(t *testing.T, s *Service, deployments []store.Deployment, incidents ...store.Incident) {
	t.Helper()
	for _, d := range deployments {
		created, err := s.RecordDeployment(t.Context(), d)
		require.NoError(t, err)
		require.True(t, created, "%s %s", d.Environment, d.Revision)
	}
	for _, i := range incidents {
		created, err := s.RecordIncident(t.Context(), i)
		require.NoError(t, err)
		require.True(t, created, i.ID)
	}
}

// A path of two production-like environments: DORA metrics and the lead
// time histogram count the deployments to both, never those to staging, nor
// to an environment that is named production but not marked so.
func TestDoraCountsEveryProductionLikeEnvironmentAndNoOther(t *testing.T) {
	st := openSQLite(t)
	addService(t, st, "orders", "checkout")
	s, registry := newServiceCounting(st, "production-eu", "production-us")
	recordAll(t, s, []store.Deployment{
		withEnvironment(prodDeploy("orders", "e1", ago(2, 0), time.Hour), "production-eu"),
		withEnvironment(prodDeploy("orders", "u1", ago(3, 0), 3*time.Hour), "production-us"),
		withEnvironment(withStatus(prodDeploy("orders", "u2", ago(4, 0), 5*time.Hour), store.DeploymentFailed), "production-us"),
		withEnvironment(prodDeploy("orders", "s1", ago(1, 0), 10*time.Minute), "staging"),
		prodDeploy("orders", "p1", ago(1, 0), 20*time.Minute),
	},
		store.Incident{ID: "INC-1", Service: "orders", OpenedAt: ago(1, time.Hour), CauseRevision: "e1"},
		store.Incident{ID: "INC-2", Service: "orders", OpenedAt: ago(1, time.Hour), CauseRevision: "s1"},
	)

	got, err := s.ServiceDora(t.Context(), "orders", "30d")
	require.NoError(t, err)
	// e1 and u1 succeeded; u2 failed.
	require.Equal(t, int64(2), got.DeploymentFrequency.Samples)
	require.InDelta(t, 2.0/30, got.DeploymentFrequency.Value, 1e-9)
	// e1's 1h and u1's 3h: the median is 2h.
	require.Equal(t, int64(2), got.LeadTimeForChanges.Samples)
	require.InDelta(t, (2 * time.Hour).Seconds(), got.LeadTimeForChanges.Value, 1e-9)
	// u2 failed and INC-1 names e1, of three deployments; INC-2 names
	// staging's s1, which counts for nothing.
	require.Equal(t, int64(3), got.ChangeFailureRate.Samples)
	require.InDelta(t, 2.0/3, got.ChangeFailureRate.Value, 1e-9)

	count, sum := leadTimeObservations(t, registry, "checkout", "orders")
	require.Equal(t, uint64(2), count, "the commits of e1 and u1")
	require.InDelta(t, (4 * time.Hour).Seconds(), sum, 1e-6)
	for env, want := range map[string]float64{"production-eu": 1, "production-us": 1, "staging": 1, "production": 1} {
		require.Equal(t, want, deploymentsCounted(t, registry, "checkout", env, "succeeded"),
			"platform_deployments_total counts every environment, %s too", env)
	}
}

// A path that marks no environment production-like leaves DORA nothing to
// measure, as no deployments would: a frequency of zero, and no band for
// the rest, not even for the resolved incidents.
func TestDoraOfAPathWithNoProductionLikeEnvironmentHasNothingToMeasure(t *testing.T) {
	st := openSQLite(t)
	addService(t, st, "orders", "checkout")
	s, registry := newServiceCounting(st)
	recordAll(t, s, []store.Deployment{prodDeploy("orders", "p1", ago(1, 0), time.Hour)},
		store.Incident{ID: "INC-1", Service: "orders", OpenedAt: ago(2, 0), ResolvedAt: ago(2, time.Hour), CauseRevision: "p1"})

	got, err := s.ServiceDora(t.Context(), "orders", "30d")
	require.NoError(t, err)
	noData := Metric{Unit: UnitSeconds}
	requireMetric(t, Metric{Unit: UnitDeploysPerDay, Band: BandLow, FrequencyClass: ClassYearly}, got.DeploymentFrequency, "deployment frequency")
	requireMetric(t, noData, got.LeadTimeForChanges, "lead time for changes")
	requireMetric(t, Metric{Unit: UnitRatio}, got.ChangeFailureRate, "change failure rate")
	requireMetric(t, noData, got.TimeToRestore, "time to restore")
	count, _ := leadTimeObservations(t, registry, "checkout", "orders")
	require.Zero(t, count)
}

// requireMetric compares metrics, their values to within rounding.
func requireMetric(t *testing.T, want, got Metric, name string) {
	t.Helper()
	require.InDelta(t, want.Value, got.Value, 1e-9, "%s value", name)
	require.InDelta(t, want.Previous, got.Previous, 1e-9, "%s previous value", name)
	want.Value, want.Previous = got.Value, got.Previous
	require.Equal(t, want, got, name)
}

// requireCode fails unless err is an apierr error with code.
func requireCode(t *testing.T, code codes.Code, err error) {
	t.Helper()
	require.Error(t, err)
	rewritten, internal := apierr.Rewrite(err, "/test")
	require.False(t, internal, "%v", err)
	require.Equal(t, code, status.Code(rewritten), "%v", err)
}

func TestParseWindow(t *testing.T) {
	at := time.Date(2031, 3, 31, 12, 0, 0, 123_456_789, time.FixedZone("CEST", 2*3600))
	end := time.Date(2031, 3, 31, 10, 0, 0, 123_456_000, time.UTC)
	tests := []struct {
		window string
		days   int
	}{
		{"", 30},
		{"1d", 1},
		{"7d", 7},
		{"999d", 999},
	}
	for _, tt := range tests {
		w, err := parseWindow(tt.window, at)
		require.NoError(t, err, tt.window)
		require.Equal(t, Window{Days: tt.days, Start: end.Add(-time.Duration(tt.days) * 24 * time.Hour), End: end}, w)
	}
	for _, bad := range []string{"0d", "30", "d", "1000d", "030d", "+3d", "-3d", "2w", "30d "} {
		_, err := parseWindow(bad, at)
		requireCode(t, codes.InvalidArgument, err)
	}
}

func TestBandsFollowTheDORA2023Levels(t *testing.T) {
	const hour = time.Hour
	const day = 24 * hour
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"one deployment a day is elite", frequencyBand(30, 30), BandElite},
		{"just under a day is high", frequencyBand(29, 30), BandHigh},
		{"once a week is high", frequencyBand(4, 28), BandHigh},
		{"under once a week is medium", frequencyBand(3, 28), BandMedium},
		{"once in 30 days is medium", frequencyBand(1, 30), BandMedium},
		{"less is low", frequencyBand(1, 31), BandLow},
		{"no deployments are low", frequencyBand(0, 30), BandLow},

		{"lead time under a day is elite", leadTimeBand(day-time.Microsecond, 1), BandElite},
		{"a day is high", leadTimeBand(day, 1), BandHigh},
		{"a week is medium", leadTimeBand(7*day, 1), BandMedium},
		{"30 days is low", leadTimeBand(30*day, 1), BandLow},
		{"no commits have no band", leadTimeBand(0, 0), ""},

		{"5% failures are elite", failureRateBand(1, 20), BandElite},
		{"just over 5% is high", failureRateBand(6, 119), BandHigh},
		{"10% is high", failureRateBand(1, 10), BandHigh},
		{"15% is medium", failureRateBand(3, 20), BandMedium},
		{"just over 15% is low", failureRateBand(16, 106), BandLow},
		{"no deployments have no band", failureRateBand(0, 0), ""},

		{"restored under an hour is elite", restoreBand(hour-time.Microsecond, 1), BandElite},
		{"an hour is high", restoreBand(hour, 1), BandHigh},
		{"a day is medium", restoreBand(day, 1), BandMedium},
		{"a week is low", restoreBand(7*day, 1), BandLow},
		{"no resolved incidents have no band", restoreBand(0, 0), ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.got, tt.name)
	}
}

func TestFrequencyClassFollowsFourKeys(t *testing.T) {
	// A 28-day window from Sunday 2 March 2031 00:00 to Sunday 30 March:
	// exactly four weeks, all in March.
	w := Window{Days: 28, Start: time.Date(2031, 3, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2031, 3, 30, 0, 0, 0, 0, time.UTC)}
	deployedOn := func(days ...int) []store.DeploymentDay {
		var out []store.DeploymentDay
		for _, d := range days {
			out = append(out, store.DeploymentDay{Day: time.Date(2031, 3, d, 0, 0, 0, 0, time.UTC), Succeeded: 1})
		}
		return out
	}
	tests := []struct {
		name string
		days []store.DeploymentDay
		want string
	}{
		{"three days in each week is daily", deployedOn(2, 3, 4, 9, 10, 11, 16, 17, 18, 23, 24, 25), ClassDaily},
		// Days per week 3, 3, 2, 2: the median is 2.5.
		{"three days in only half the weeks is weekly", deployedOn(2, 3, 4, 9, 10, 11, 16, 17, 23, 24), ClassWeekly},
		{"a day in three weeks of four is weekly", deployedOn(2, 9, 16), ClassWeekly},
		// Weeks deployed 1, 1, 0, 0: the median is 0.5, not a week.
		{"a day in half the weeks is monthly", deployedOn(2, 9), ClassMonthly},
		{"one day in the month is monthly", deployedOn(20), ClassMonthly},
		{"no deployment is yearly", nil, ClassYearly},
		{"failed deployments do not count", []store.DeploymentDay{{Day: time.Date(2031, 3, 2, 0, 0, 0, 0, time.UTC), Failed: 4}}, ClassYearly},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, frequencyClass(tt.days, w), tt.name)
	}
}

func TestMedianIsTheMiddleOfTheSortedValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 4, 5, 10, 11, 100, 1001, 5000} {
		for _, spread := range []int64{1, 3, 1000, 1 << 40} { // from all equal to all distinct
			ds := make([]time.Duration, n)
			for i := range ds {
				ds[i] = time.Duration(rng.Int64N(spread))
			}
			original := slices.Clone(ds)
			sorted := slices.Sorted(slices.Values(ds))
			want := sorted[n/2]
			if n%2 == 0 {
				want = (sorted[n/2-1] + sorted[n/2]) / 2
			}
			require.Equal(t, want, median(ds), "%d values below %d", n, spread)
			require.Equal(t, original, ds, "median reordered its input")
		}
	}
	require.Zero(t, median(nil))
}
