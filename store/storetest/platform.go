package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// platformTests are the conformance tests of store.PlatformStore, which Run
// appends to its suite.
var platformTests = []struct {
	name string
	test func(t *testing.T, s store.Store)
}{
	{"FirstDeploymentsAreOfServicesWhoseFirstSuccessfulDeploymentFinishedInThePeriod", testFirstDeployments},
	{"CountServicesCountsPerTeamAndGoldenPathInByteOrder", testCountServices},
	{"CountActiveServicesCountsServicesWithASuccessfulDeploymentPerTeamAndEnvironment", testCountActiveServices},
	{"CountActiveServicesCountsUnderTheCatalogsTeamNow", testCountActiveServicesFollowsTheCatalog},
	{"PlatformReadsOfAnEmptyStoreAreEmpty", testPlatformReadsOfEmptyStore},
}

// The period the platform tests read: one day.
var (
	platformFrom = time.Date(2031, 7, 1, 0, 0, 0, 0, time.UTC)
	platformTo   = platformFrom.AddDate(0, 0, 1)
)

// addTeamService adds a service of team to the catalog and returns it as
// stored.
func addTeamService(t *testing.T, s store.Store, name, team string, goldenPath bool) *store.Service {
	t.Helper()
	svc := &store.Service{Name: name, Owner: "group:default/" + team, Team: team, Type: "service", Lifecycle: "production", GoldenPath: goldenPath}
	if goldenPath {
		svc.SourceTemplate = "template:default/go-service"
	}
	return upsert(t, s, svc)
}

// deployedAt is a deployment of service to environment that finished at
// finished, after a minute; revisions tell its deployments apart.
func deployedAt(service, environment, status string, finished time.Time) store.Deployment {
	return store.Deployment{
		Service: service, Environment: environment, Revision: finished.Format(time.RFC3339Nano), Status: status,
		StartedAt: finished.Add(-time.Minute), FinishedAt: finished,
	}
}

func testFirstDeployments(t *testing.T, s store.Store) {
	api := addTeamService(t, s, "api", "team-a", true)
	edge := addTeamService(t, s, "edge", "team-a", false)
	for _, name := range []string{"web", "batch", "idle", "broken"} {
		addTeamService(t, s, name, "team-b", false)
	}
	hour := func(h int) time.Time { return platformFrom.Add(time.Duration(h) * time.Hour) }
	for _, d := range []store.Deployment{
		// api: a failed deployment does not count; the first successful
		// one is to staging, before production.
		deployedAt("api", "staging", store.DeploymentFailed, hour(1)),
		deployedAt("api", "production", store.DeploymentSucceeded, hour(5)),
		deployedAt("api", "staging", store.DeploymentSucceeded, hour(3)),
		// edge: first at the period's start, which the period holds.
		deployedAt("edge", "staging", store.DeploymentSucceeded, platformFrom),
		deployedAt("edge", "production", store.DeploymentSucceeded, hour(2)),
		// web: first before the period.
		deployedAt("web", "production", store.DeploymentSucceeded, platformFrom.Add(-time.Microsecond)),
		deployedAt("web", "production", store.DeploymentSucceeded, hour(10)),
		// batch: first at the period's end, which the period leaves out.
		deployedAt("batch", "production", store.DeploymentSucceeded, platformTo),
		// broken: never deployed successfully.
		deployedAt("broken", "production", store.DeploymentFailed, hour(4)),
		// ghost: deployed, but not in the catalog.
		deployedAt("ghost", "production", store.DeploymentSucceeded, hour(6)),
	} {
		recordDeployment(t, s, d)
	}

	firsts, err := s.FirstDeployments(t.Context(), platformFrom, platformTo)
	require.NoError(t, err)
	require.Equal(t, []store.FirstDeployment{
		{Service: "api", CreateTime: api.CreateTime, FirstDeployedAt: hour(3)},
		{Service: "edge", CreateTime: edge.CreateTime, FirstDeployedAt: platformFrom},
	}, firsts)
}

func testCountServices(t *testing.T, s store.Store) {
	// Byte order puts '-' before '1'; a linguistic collation may not.
	addTeamService(t, s, "one", "team1", true)
	addTeamService(t, s, "b-golden", "team-b", true)
	addTeamService(t, s, "a-plain", "team-a", false)
	addTeamService(t, s, "a-golden", "team-a", true)
	addTeamService(t, s, "a-golden-too", "team-a", true)
	addTeamService(t, s, "b-plain", "team-b", false)

	counts, err := s.CountServices(t.Context())
	require.NoError(t, err)
	require.Equal(t, []store.TeamServiceCount{
		{Team: "team-a", GoldenPath: false, Count: 1},
		{Team: "team-a", GoldenPath: true, Count: 2},
		{Team: "team-b", GoldenPath: false, Count: 1},
		{Team: "team-b", GoldenPath: true, Count: 1},
		{Team: "team1", GoldenPath: true, Count: 1},
	}, counts)
}

func testCountActiveServices(t *testing.T, s store.Store) {
	addTeamService(t, s, "api", "team-a", true)
	addTeamService(t, s, "web", "team-a", false)
	addTeamService(t, s, "batch", "team-b", false)
	addTeamService(t, s, "late", "team-b", false)
	noon := platformFrom.Add(12 * time.Hour)
	for _, d := range []store.Deployment{
		// api: twice to production, once to each of two regions; a
		// service counts once per environment however often it deploys.
		deployedAt("api", "production", store.DeploymentSucceeded, noon),
		deployedAt("api", "production", store.DeploymentSucceeded, noon.Add(time.Hour)),
		deployedAt("api", "prod1", store.DeploymentSucceeded, noon),
		deployedAt("api", "prod-eu", store.DeploymentSucceeded, noon),
		// web: a failed production deployment does not make it active.
		deployedAt("web", "production", store.DeploymentFailed, noon),
		deployedAt("web", "prod-eu", store.DeploymentSucceeded, noon),
		// batch: production before the period; staging at its start.
		deployedAt("batch", "production", store.DeploymentSucceeded, platformFrom.Add(-time.Microsecond)),
		deployedAt("batch", "staging", store.DeploymentSucceeded, platformFrom),
		// late: at the period's end, which it leaves out.
		deployedAt("late", "production", store.DeploymentSucceeded, platformTo),
		// ghost: not in the catalog.
		deployedAt("ghost", "production", store.DeploymentSucceeded, noon),
	} {
		recordDeployment(t, s, d)
	}

	counts, err := s.CountActiveServices(t.Context(), platformFrom, platformTo)
	require.NoError(t, err)
	require.Equal(t, []store.ActiveServiceCount{
		{Team: "team-a", Environment: "prod-eu", Count: 2},
		{Team: "team-a", Environment: "prod1", Count: 1},
		{Team: "team-a", Environment: "production", Count: 1},
		{Team: "team-b", Environment: "staging", Count: 1},
	}, counts)
}

func testCountActiveServicesFollowsTheCatalog(t *testing.T, s store.Store) {
	addTeamService(t, s, "api", "team-a", false)
	addTeamService(t, s, "web", "team-a", false)
	recordDeployment(t, s, deployedAt("api", "production", store.DeploymentSucceeded, platformFrom))
	recordDeployment(t, s, deployedAt("web", "production", store.DeploymentSucceeded, platformFrom))

	addTeamService(t, s, "api", "team-b", false) // moved to another team
	require.NoError(t, s.DeleteService(t.Context(), "web", ""))

	counts, err := s.CountActiveServices(t.Context(), platformFrom, platformTo)
	require.NoError(t, err)
	require.Equal(t, []store.ActiveServiceCount{{Team: "team-b", Environment: "production", Count: 1}}, counts)
	firsts, err := s.FirstDeployments(t.Context(), platformFrom, platformTo)
	require.NoError(t, err)
	require.Equal(t, []string{"api"}, firstDeployedServices(firsts))
}

func firstDeployedServices(firsts []store.FirstDeployment) []string {
	var names []string
	for _, f := range firsts {
		names = append(names, f.Service)
	}
	return names
}

func testPlatformReadsOfEmptyStore(t *testing.T, s store.Store) {
	firsts, err := s.FirstDeployments(t.Context(), platformFrom, platformTo)
	require.NoError(t, err)
	require.Empty(t, firsts)
	services, err := s.CountServices(t.Context())
	require.NoError(t, err)
	require.Empty(t, services)
	active, err := s.CountActiveServices(t.Context(), platformFrom, platformTo)
	require.NoError(t, err)
	require.Empty(t, active)
}
