package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// platformService adds a service of team to the catalog, on the golden
// path or not, and returns it as stored, with its creation time.
func platformService(t *testing.T, st store.Store, name, team string, goldenPath bool) *store.Service {
	t.Helper()
	svc := &store.Service{Name: name, Owner: "group:default/" + team, Team: team, Type: "service", Lifecycle: "production", GoldenPath: goldenPath}
	stored, _, err := st.UpsertService(t.Context(), svc, "")
	require.NoError(t, err)
	return stored
}

// deployAfterCreation records a deployment of svc that finished after
// days since svc entered the catalog.
func deployAfterCreation(t *testing.T, st store.Store, svc *store.Service, environment, status string, days float64) {
	t.Helper()
	finished := svc.CreateTime.Add(time.Duration(days * float64(24*time.Hour)))
	_, err := st.RecordDeployment(t.Context(), store.Deployment{
		Service: svc.Name, Environment: environment, Revision: "r" + finished.Format(time.RFC3339Nano), Status: status,
		StartedAt: finished.Add(-time.Minute), FinishedAt: finished,
	})
	require.NoError(t, err)
}

func TestPlatformMetricsOfAFixedEventSet(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			st := engine.open(t)
			alpha := platformService(t, st, "alpha", "team-a", true)
			beta := platformService(t, st, "beta", "team-a", false)
			gamma := platformService(t, st, "gamma", "team-b", true)
			delta := platformService(t, st, "delta", "team-b", false)
			early := platformService(t, st, "early", "team-b", false)
			platformService(t, st, "idle", "team-c", true)
			broken := platformService(t, st, "broken", "team-c", false)

			// The catalog entries are made within moments of alpha's. The
			// clock stands 40 days after alpha was made, so the 30-day
			// window starts 10 days after it.
			base := alpha.CreateTime
			p := NewPlatform(st, nil)
			p.now = func() time.Time { return base.Add(40 * 24 * time.Hour) }

			succeeded, failed := store.DeploymentSucceeded, store.DeploymentFailed
			deployAfterCreation(t, st, alpha, "staging", succeeded, 10) // first: 10 days
			deployAfterCreation(t, st, alpha, "production", succeeded, 11)
			deployAfterCreation(t, st, beta, "production", failed, 11)
			deployAfterCreation(t, st, beta, "production", succeeded, 12)  // first: 12 days
			deployAfterCreation(t, st, gamma, "staging", succeeded, 15)    // first: 15 days
			deployAfterCreation(t, st, delta, "production", succeeded, 20) // first: 20 days
			deployAfterCreation(t, st, early, "staging", succeeded, 9)     // first, before the window
			deployAfterCreation(t, st, early, "production", succeeded, 25)
			deployAfterCreation(t, st, broken, "production", failed, 13) // never deployed

			for _, ticket := range []struct {
				id, category string
				days         int
			}{
				{"T-1", "access", 11}, {"T-2", "access", 30}, {"T-3", "outage", 39},
				{"T-4", "access", 5},   // before the window
				{"T-5", "billing", 40}, // at its end, which it leaves out
			} {
				_, err := st.RecordSupportTicket(t.Context(), store.SupportTicket{
					ID: ticket.id, Category: ticket.category, OpenedAt: base.Add(time.Duration(ticket.days) * 24 * time.Hour),
				})
				require.NoError(t, err)
			}

			m, err := p.Metrics(t.Context(), "")
			require.NoError(t, err)

			require.Equal(t, 30, m.Window.Days)
			// The median of 10, 12, 15 and 20 days: between 12 and 15.
			require.Equal(t, 4, m.FirstDeploys)
			require.Equal(t, 13*24*time.Hour+12*time.Hour, m.TimeToFirstDeploy)
			// alpha, gamma and idle of seven services.
			require.InDelta(t, 3.0/7.0, m.GoldenPathAdoption, 1e-12)
			require.Equal(t, []store.TicketCount{{Category: "access", Count: 2}, {Category: "outage", Count: 1}}, m.SupportTickets)
			require.Equal(t, []store.ActiveServiceCount{
				{Team: "team-a", Environment: "production", Count: 2}, // alpha, beta
				{Team: "team-a", Environment: "staging", Count: 1},    // alpha
				{Team: "team-b", Environment: "production", Count: 2}, // delta, early
				{Team: "team-b", Environment: "staging", Count: 1},    // gamma; early's was before the window
			}, m.ActiveServices)
			// No cluster: nothing to read claims from.
			require.Empty(t, m.ProvisioningTimes)
			require.Zero(t, m.SelfServiceRatio)

			// A week ending at the same time holds only early's production
			// deployment, which is not its first.
			week, err := p.Metrics(t.Context(), "7d")
			require.NoError(t, err)
			require.Zero(t, week.FirstDeploys)
			require.Zero(t, week.TimeToFirstDeploy)
			require.Equal(t, []store.TicketCount{{Category: "outage", Count: 1}}, week.SupportTickets)
			require.Empty(t, week.ActiveServices)
		})
	}
}

func TestTimeToFirstDeployLeavesOutServicesDeployedBeforeTheirCatalogEntry(t *testing.T) {
	created := time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)
	first := func(service string, after time.Duration) store.FirstDeployment {
		return store.FirstDeployment{Service: service, CreateTime: created, FirstDeployedAt: created.Add(after)}
	}
	ttfd, n := timeToFirstDeploy([]store.FirstDeployment{
		first("a", 3*time.Hour),
		first("registered-late", -48*time.Hour),
		first("b", 0), // deployed the moment it was made
		first("c", 5*time.Hour),
	})
	require.Equal(t, 3, n)
	require.Equal(t, 3*time.Hour, ttfd) // the middle of 0, 3 and 5 hours

	ttfd, n = timeToFirstDeploy(nil)
	require.Zero(t, n)
	require.Zero(t, ttfd)
}

func TestProvisioningTimesArePercentilesOfClaimsCairnAppliedThatBecameReadyInTheWindow(t *testing.T) {
	w := Window{Days: 30, Start: time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2031, 7, 1, 0, 0, 0, 0, time.UTC)}
	requested := w.Start.Add(24 * time.Hour)
	requestTimes := map[string]time.Time{"orders": requested, "search": requested, "unprovisioned": {}}
	claim := func(kind, service string, managed bool, readyAfter time.Duration) kube.Claim {
		return kube.Claim{Kind: kind, Namespace: "team", Name: service, Service: service, ManagedByCairn: managed, ReadySince: requested.Add(readyAfter)}
	}
	db := func(readyAfter time.Duration) kube.Claim {
		return claim(manifest.KindDatabaseClaim, "orders", true, readyAfter)
	}
	bucket := func(readyAfter time.Duration) kube.Claim {
		return claim(manifest.KindBucketClaim, "search", true, readyAfter)
	}
	notReady := db(0)
	notReady.ReadySince = time.Time{}

	claims := []kube.Claim{
		db(40 * time.Minute), db(10 * time.Minute), db(60 * time.Minute), db(30 * time.Minute), db(20 * time.Minute),
		bucket(3 * time.Minute), bucket(time.Minute),
		// Ready half a minute before the request, as whole-second
		// condition times can make it: zero.
		bucket(-30 * time.Second),
		// Left out: made by hand, of a service without a provisioning,
		// not ready, ready before the window or at its end.
		claim(manifest.KindDatabaseClaim, "orders", false, time.Minute),
		claim(manifest.KindDatabaseClaim, "unprovisioned", true, time.Minute),
		claim(manifest.KindBucketClaim, "", true, time.Minute),
		notReady,
		db(w.Start.Sub(requested) - time.Second),
		db(w.End.Sub(requested)),
	}

	require.Equal(t, []ProvisioningTime{
		// 10, 20, 30, 40, 60 minutes: p50 the middle one; p95 at rank
		// 0.95 x 4 = 3.8, 80% of the way from 40 to 60 minutes.
		{ResourceType: manifest.KindDatabaseClaim, P50: 30 * time.Minute, P95: 56 * time.Minute, Samples: 5},
		// 0, 1, 3 minutes: p50 the middle one; p95 at rank 0.95 x 2 =
		// 1.9, 90% of the way from 1 to 3 minutes: 1m + 108s.
		{ResourceType: manifest.KindBucketClaim, P50: time.Minute, P95: 2*time.Minute + 48*time.Second, Samples: 3},
	}, provisioningTimes(claims, requestTimes, w))

	require.Equal(t, []ProvisioningTime{
		{ResourceType: manifest.KindDatabaseClaim}, {ResourceType: manifest.KindBucketClaim},
	}, provisioningTimes(nil, nil, w), "every resource type is listed, without percentiles when none counts")
}

func TestSelfServiceRatioIsTheShareOfClaimsCairnApplied(t *testing.T) {
	claims := []kube.Claim{
		{Kind: manifest.KindDatabaseClaim, Name: "orders-db", ManagedByCairn: true},
		{Kind: manifest.KindBucketClaim, Name: "orders-bucket", ManagedByCairn: true},
		{Kind: manifest.KindBucketClaim, Name: "search-bucket", ManagedByCairn: true},
		{Kind: manifest.KindDatabaseClaim, Name: "legacy-db"},
	}
	require.Equal(t, 0.75, selfServiceRatio(claims))
	require.Zero(t, selfServiceRatio(nil))
}

func TestGoldenPathAdoptionIsTheShareOfServicesOnTheGoldenPath(t *testing.T) {
	require.Equal(t, 0.6, goldenPathAdoption([]store.TeamServiceCount{
		{Team: "team-a", GoldenPath: false, Count: 1},
		{Team: "team-a", GoldenPath: true, Count: 2},
		{Team: "team-b", GoldenPath: false, Count: 1},
		{Team: "team-b", GoldenPath: true, Count: 1},
	}))
	require.Zero(t, goldenPathAdoption(nil))
}

func TestPercentileInterpolatesBetweenTheClosestRanks(t *testing.T) {
	minutes := func(ms ...int) []time.Duration {
		ds := make([]time.Duration, len(ms))
		for i, m := range ms {
			ds[i] = time.Duration(m) * time.Minute
		}
		return ds
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"None", nil, 0.5, 0},
		{"One", minutes(7), 0.95, 7 * time.Minute},
		{"MedianOfTwoIsTheirMean", minutes(10, 20), 0.5, 15 * time.Minute},
		{"P95OfTwo", minutes(10, 20), 0.95, 19*time.Minute + 30*time.Second},
		{"P95OfTwentyOne", minutes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100), 0.95, 19 * time.Minute},
		{"HundredthIsTheLargest", minutes(1, 2, 3), 1, 3 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, percentile(tc.sorted, tc.q))
		})
	}
}

func TestGetPlatformMetricsAnswersEveryField(t *testing.T) {
	st := openSQLite(t)
	orders := platformService(t, st, "orders", "team-orders", true)
	platformService(t, st, "search", "team-search", false)
	deployAfterCreation(t, st, orders, "production", store.DeploymentSucceeded, 2)
	_, err := st.RecordSupportTicket(t.Context(), store.SupportTicket{ID: "T-1", Category: "access", OpenedAt: orders.CreateTime})
	require.NoError(t, err)
	metrics, _ := newService(st)
	p := NewPlatform(st, nil)
	p.now = func() time.Time { return orders.CreateTime.Add(3 * 24 * time.Hour) }
	server := NewServer(metrics, p)

	resp, err := server.GetPlatformMetrics(asAdmin(), &cairnv1.GetPlatformMetricsRequest{Window: "7d"})
	require.NoError(t, err)
	requireProto(t, &cairnv1.GetPlatformMetricsResponse{
		TimeToFirstDeploy:  durationpb.New(48 * time.Hour),
		ProvisioningTimes:  []*cairnv1.ProvisioningTime{},
		GoldenPathAdoption: 0.5,
		SupportTickets:     []*cairnv1.CategoryCount{{Category: "access", Count: 1}},
		ActiveServices:     []*cairnv1.ActiveServiceCount{{Team: "team-orders", Environment: "production", Count: 1}},
	}, resp)

	// A day later the first deployment is out of a one-day window, and
	// time to first deploy has nothing to measure.
	p.now = func() time.Time { return orders.CreateTime.Add(4 * 24 * time.Hour) }
	resp, err = server.GetPlatformMetrics(asAdmin(), &cairnv1.GetPlatformMetricsRequest{Window: "1d"})
	require.NoError(t, err)
	require.Nil(t, resp.GetTimeToFirstDeploy())

	_, err = server.GetPlatformMetrics(asAdmin(), &cairnv1.GetPlatformMetricsRequest{Window: "4w"})
	requireCode(t, codes.InvalidArgument, err)
	require.Equal(t, []string{"window"}, violatedFields(t, err))
}
