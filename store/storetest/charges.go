package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// chargeTests are the conformance tests of incidents charged to
// deployments and of the drill-down lists, which Run appends to its suite.
var chargeTests = []struct {
	name string
	test func(t *testing.T, s store.Store)
}{
	{"AnIncidentNamingNoRevisionIsChargedToTheLastProductionDeploymentWithinTheWindow", testIncidentChargedByTime},
	{"ALaterDeploymentRecordedAfterTheIncidentTakesTheInferredCharge", testLaterDeploymentTakesTheCharge},
	{"ACorrectionMovesTheChargeAndTheDayCountsFollow", testCorrectionMovesTheCharge},
	{"ListDeploymentsPagesNewestFirstWithCommitsAndChargedIncidents", testListDeployments},
	{"ListIncidentsPagesNewestFirstAndFiltersOnState", testListIncidents},
	{"OpenIncidentsOfARevisionAreThoseChargedToIt", testOpenIncidentsOfRevision},
}

// charging is how the charge tests charge orders' incidents by time: to
// production deployments, within the default window of 24 hours.
func charging(from, to time.Time) store.IncidentCharging {
	return store.IncidentCharging{
		Service: "orders", Environments: []string{"production"}, Window: 24 * time.Hour, OpenedFrom: from, OpenedTo: to,
	}
}

// chargeIncident records i, a new incident of orders, and charges it by
// time as the metrics service does.
func chargeIncident(t *testing.T, s store.Store, i store.Incident) {
	t.Helper()
	recordIncident(t, s, i)
	require.NoError(t, s.ChargeIncidents(t.Context(), charging(i.OpenedAt, i.OpenedAt)))
}

// chargeDeployment records d, a new deployment of orders, and charges by
// time the incidents it may now take, as the metrics service does.
func chargeDeployment(t *testing.T, s store.Store, d store.Deployment) {
	t.Helper()
	recordDeployment(t, s, d)
	require.NoError(t, s.ChargeIncidents(t.Context(), charging(d.FinishedAt, d.FinishedAt.Add(24*time.Hour))))
}

// incidentCausing is how many of orders' production deployments finished
// in [from, to) an incident is charged to, counted from the day counts for
// whole days and from the deployments for parts of days.
func incidentCausing(t *testing.T, s store.Store, from, to time.Time) int64 {
	t.Helper()
	facts, err := s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, from, to)
	require.NoError(t, err)
	var n int64
	for _, d := range facts.Days {
		n += d.IncidentCausing
	}
	return n
}

// charges are orders' incidents by id: the link and charged revision.
func charges(t *testing.T, s store.Store) map[string][2]string {
	t.Helper()
	incidents, err := s.ListIncidents(t.Context(), store.IncidentQuery{
		Services: []string{"orders"}, OpenedFrom: metricsDay.AddDate(0, 0, -7), OpenedTo: metricsDay.AddDate(0, 0, 7),
		Production: []string{"production"}, Limit: 100,
	})
	require.NoError(t, err)
	got := make(map[string][2]string, len(incidents))
	for _, i := range incidents {
		got[i.ID] = [2]string{i.Link, i.Deployment.Revision}
	}
	return got
}

func testIncidentChargedByTime(t *testing.T, s store.Store) {
	// v1 reaches production at 10:00; a staging deployment at 11:00 is no
	// production deployment, and a failed one at 12:00 no successful one.
	chargeDeployment(t, s, deployment("v1", at(10, 0)))
	staging := deployment("v2", at(11, 0))
	staging.Environment = "staging"
	chargeDeployment(t, s, staging)
	failed := deployment("v3", at(12, 0))
	failed.Status = store.DeploymentFailed
	chargeDeployment(t, s, failed)
	// Opened 3 hours after v1: charged to it. Opened 30 hours after: to
	// nothing, beyond the 24-hour window.
	chargeIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(13, 0)})
	chargeIncident(t, s, store.Incident{ID: "INC-2", Service: "orders", OpenedAt: at(10, 0).Add(30 * time.Hour)})

	require.Equal(t, map[string][2]string{"INC-1": {"inferred", "v1"}, "INC-2": {"", ""}}, charges(t, s))
	// Production on the day: v1 succeeded and caused INC-1, v3 failed; the
	// change failure rate would be (1 failed + 1 causing) / 2 deployments.
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 1, Failed: 1, IncidentCausing: 1}}, factsOfDay(t, s).Days)
	require.EqualValues(t, 1, incidentCausing(t, s, at(9, 0), at(20, 0)), "part of a day, from the deployments themselves")
	// Charging again changes nothing.
	require.NoError(t, s.ChargeIncidents(t.Context(), charging(metricsDay, metricsDay.AddDate(0, 0, 2))))
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 1, Failed: 1, IncidentCausing: 1}}, factsOfDay(t, s).Days)
}

func testLaterDeploymentTakesTheCharge(t *testing.T, s store.Store) {
	chargeDeployment(t, s, deployment("v1", at(10, 0)))
	chargeIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(13, 0)})
	// v2 finished at 12:00, before INC-1 opened, but is recorded after it:
	// it is the later deployment within the window, and takes the charge.
	chargeDeployment(t, s, deployment("v2", at(12, 0)))
	// v3 finished after INC-1 opened: it cannot have caused it.
	chargeDeployment(t, s, deployment("v3", at(14, 0)))

	require.Equal(t, map[string][2]string{"INC-1": {"inferred", "v2"}}, charges(t, s))
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 3, IncidentCausing: 1}}, factsOfDay(t, s).Days)
	require.EqualValues(t, 0, incidentCausing(t, s, at(9, 0), at(11, 0)), "v1 no longer causes it")
	require.EqualValues(t, 1, incidentCausing(t, s, at(11, 0), at(13, 0)), "v2 does")
}

func testCorrectionMovesTheCharge(t *testing.T, s store.Store) {
	ctx := t.Context()
	chargeDeployment(t, s, deployment("v1", at(10, 0)))
	chargeDeployment(t, s, deployment("v2", at(12, 0)))
	chargeIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(13, 0)})
	chargeIncident(t, s, store.Incident{ID: "INC-2", Service: "orders", OpenedAt: at(13, 30)})
	chargeIncident(t, s, store.Incident{ID: "INC-3", Service: "orders", OpenedAt: at(14, 0), CauseRevision: "v2"})
	require.Equal(t, map[string][2]string{
		"INC-1": {"inferred", "v2"}, "INC-2": {"inferred", "v2"}, "INC-3": {"named", "v2"},
	}, charges(t, s))
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 2, IncidentCausing: 1}}, factsOfDay(t, s).Days)

	// INC-1 is moved to v1: both deployments now caused an incident.
	corrected, err := s.CorrectIncidentCharge(ctx, "orders", "INC-1", "v1", []string{"production"})
	require.NoError(t, err)
	require.Equal(t, store.ChargeCorrected, corrected.Link)
	require.Equal(t, "v1", corrected.Deployment.Revision)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 2, IncidentCausing: 2}}, factsOfDay(t, s).Days)
	// A correction stands against charging by time, and a later deployment.
	chargeDeployment(t, s, deployment("v0", at(12, 30)))
	require.Equal(t, map[string][2]string{
		"INC-1": {"corrected", "v1"}, "INC-2": {"inferred", "v0"}, "INC-3": {"named", "v2"},
	}, charges(t, s))
	// v2 still has INC-3, named; taken away too, v2 causes nothing.
	_, err = s.CorrectIncidentCharge(ctx, "orders", "INC-3", "", nil)
	require.NoError(t, err)
	require.EqualValues(t, 0, incidentCausing(t, s, at(11, 0), at(12, 15)), "v2 is charged nothing")
	// INC-1 to nothing: v1 causes nothing; only v0 (INC-2) counts.
	_, err = s.CorrectIncidentCharge(ctx, "orders", "INC-1", "", nil)
	require.NoError(t, err)
	require.Equal(t, map[string][2]string{
		"INC-1": {"corrected", ""}, "INC-2": {"inferred", "v0"}, "INC-3": {"corrected", ""},
	}, charges(t, s))
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 3, IncidentCausing: 1}}, factsOfDay(t, s).Days)
	require.EqualValues(t, 1, incidentCausing(t, s, at(9, 0), at(20, 0)))
	// A revision never deployed to production, and an unknown incident,
	// are not found and change nothing.
	_, err = s.CorrectIncidentCharge(ctx, "orders", "INC-2", "v9", []string{"production"})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.CorrectIncidentCharge(ctx, "orders", "INC-9", "v1", []string{"production"})
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Equal(t, "v0", charges(t, s)["INC-2"][1])
	// A new deployment of a revision that a corrected incident names is not
	// charged with it.
	chargeDeployment(t, s, deployment("v2", at(18, 0)))
	require.EqualValues(t, 1, incidentCausing(t, s, metricsDay, metricsDay.AddDate(0, 0, 1)))
}

func testListDeployments(t *testing.T, s store.Store) {
	ctx := t.Context()
	chargeDeployment(t, s, deployment("v1", at(10, 0), time.Hour))
	chargeDeployment(t, s, deployment("v2", at(11, 0), 2*time.Hour, 30*time.Minute))
	failed := deployment("v3", at(12, 0))
	failed.Status = store.DeploymentFailed
	chargeDeployment(t, s, failed)
	staging := deployment("v4", at(13, 0))
	staging.Environment = "staging"
	chargeDeployment(t, s, staging)
	cart := deployment("v1", at(14, 0))
	cart.Service = "cart"
	recordDeployment(t, s, cart)
	chargeIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(11, 30)})
	chargeIncident(t, s, store.Incident{ID: "INC-2", Service: "orders", OpenedAt: at(15, 0), CauseRevision: "v1"})

	query := store.DeploymentQuery{Services: []string{"orders"}, FinishedFrom: metricsDay, FinishedTo: metricsDay.AddDate(0, 0, 1), Limit: 2}
	page, err := s.ListDeployments(ctx, query)
	require.NoError(t, err)
	require.Len(t, page, 2)
	require.Equal(t, []string{"v4", "v3"}, []string{page[0].Revision, page[1].Revision})
	query.AfterFinished, query.AfterID = page[1].FinishedAt, page[1].ID
	page, err = s.ListDeployments(ctx, query)
	require.NoError(t, err)
	require.Len(t, page, 2)
	v2, v1 := page[0], page[1]
	require.Equal(t, "v2", v2.Revision)
	require.Equal(t, []store.Commit{
		{SHA: "v2-0", CommittedAt: at(9, 0)}, {SHA: "v2-1", CommittedAt: at(10, 30)},
	}, v2.Commits, "by commit time")
	require.Len(t, v2.Incidents, 1)
	require.Equal(t, "INC-1", v2.Incidents[0].ID)
	require.Equal(t, store.ChargeInferred, v2.Incidents[0].Link)
	require.Equal(t, "v1", v1.Revision)
	require.Len(t, v1.Incidents, 1)
	require.Equal(t, store.ChargeNamed, v1.Incidents[0].Link)
	query.AfterFinished, query.AfterID = v1.FinishedAt, v1.ID
	page, err = s.ListDeployments(ctx, query)
	require.NoError(t, err)
	require.Empty(t, page, "the last page is past the end")

	// Filters: environment, status, a time range; two services.
	filtered, err := s.ListDeployments(ctx, store.DeploymentQuery{
		Services: []string{"orders"}, Environment: "production", Status: store.DeploymentSucceeded,
		FinishedFrom: at(10, 30), FinishedTo: metricsDay.AddDate(0, 0, 1), Limit: 10,
	})
	require.NoError(t, err)
	require.Len(t, filtered, 1)
	require.Equal(t, "v2", filtered[0].Revision)
	both, err := s.ListDeployments(ctx, store.DeploymentQuery{
		Services: []string{"cart", "orders"}, FinishedFrom: at(13, 0), FinishedTo: metricsDay.AddDate(0, 0, 1), Limit: 10,
	})
	require.NoError(t, err)
	require.Len(t, both, 2)
	require.Equal(t, []string{"cart", "orders"}, []string{both[0].Service, both[1].Service})
}

func testListIncidents(t *testing.T, s store.Store) {
	ctx := t.Context()
	chargeDeployment(t, s, deployment("v1", at(10, 0)))
	staging := deployment("v1", at(11, 0))
	staging.Environment = "staging"
	chargeDeployment(t, s, staging)
	chargeIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(12, 0), ResolvedAt: at(12, 30)})
	chargeIncident(t, s, store.Incident{ID: "INC-2", Service: "orders", OpenedAt: at(13, 0), CauseRevision: "v1"})
	chargeIncident(t, s, store.Incident{ID: "INC-3", Service: "orders", OpenedAt: at(14, 0)})
	cart := store.Incident{ID: "INC-3", Service: "cart", OpenedAt: at(14, 0)}
	recordIncident(t, s, cart)

	query := store.IncidentQuery{
		Services: []string{"cart", "orders"}, OpenedFrom: metricsDay, OpenedTo: metricsDay.AddDate(0, 0, 1),
		Production: []string{"production"}, Limit: 3,
	}
	page, err := s.ListIncidents(ctx, query)
	require.NoError(t, err)
	require.Len(t, page, 3)
	// Newest first; at one opening time, by service then id, descending.
	require.Equal(t, [][2]string{{"orders", "INC-3"}, {"cart", "INC-3"}, {"orders", "INC-2"}},
		[][2]string{{page[0].Service, page[0].ID}, {page[1].Service, page[1].ID}, {page[2].Service, page[2].ID}})
	// A named charge shows the revision's production deployment, not its
	// later staging one.
	require.Equal(t, store.ChargeNamed, page[2].Link)
	require.Equal(t, "production", page[2].Deployment.Environment)
	require.Equal(t, at(10, 0), page[2].Deployment.FinishedAt)
	last := page[2]
	query.AfterOpened, query.AfterService, query.AfterID = last.OpenedAt, last.Service, last.ID
	page, err = s.ListIncidents(ctx, query)
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, "INC-1", page[0].ID)
	require.Equal(t, at(12, 30), page[0].ResolvedAt)
	require.Equal(t, store.ChargeInferred, page[0].Link)

	for state, want := range map[string]int{store.IncidentOpen: 3, store.IncidentResolved: 1} {
		got, err := s.ListIncidents(ctx, store.IncidentQuery{
			Services: []string{"cart", "orders"}, State: state, OpenedFrom: metricsDay, OpenedTo: metricsDay.AddDate(0, 0, 1), Limit: 10,
		})
		require.NoError(t, err)
		require.Len(t, got, want, state)
	}
	ranged, err := s.ListIncidents(ctx, store.IncidentQuery{Services: []string{"orders"}, OpenedFrom: at(12, 30), OpenedTo: at(14, 0), Limit: 10})
	require.NoError(t, err)
	require.Len(t, ranged, 1, "from inclusive, to exclusive")
	require.Equal(t, "INC-2", ranged[0].ID)
}

func testOpenIncidentsOfRevision(t *testing.T, s store.Store) {
	chargeDeployment(t, s, deployment("v1", at(10, 0)))
	chargeIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(11, 0)})
	chargeIncident(t, s, store.Incident{ID: "INC-2", Service: "orders", OpenedAt: at(12, 0), CauseRevision: "v1"})
	chargeIncident(t, s, store.Incident{ID: "INC-3", Service: "orders", OpenedAt: at(13, 0), ResolvedAt: at(13, 30), CauseRevision: "v1"})
	chargeIncident(t, s, store.Incident{ID: "INC-4", Service: "orders", OpenedAt: at(14, 0), CauseRevision: "v2"})

	open, err := s.OpenIncidentsOfRevision(t.Context(), "orders", "v1")
	require.NoError(t, err)
	ids := make([]string, len(open))
	for i, incident := range open {
		ids[i] = incident.ID
	}
	require.Equal(t, []string{"INC-1", "INC-2"}, ids, "inferred and named, open, oldest first")
}
