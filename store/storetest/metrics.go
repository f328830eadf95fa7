package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// metricsTests are the conformance tests of store.MetricsStore, which Run
// appends to its suite.
var metricsTests = []struct {
	name string
	test func(t *testing.T, s store.Store)
}{
	{"RecordDeploymentIsIdempotentOnItsKeyAndTheFirstRecordWins", testRecordDeploymentIdempotent},
	{"RecordDeploymentKeyIsServiceEnvironmentRevisionAndStartTime", testRecordDeploymentKey},
	{"ARepeatedDeploymentAddsTheCommitsItLacksOnceWithLeadTimesFromTheFirstFinish", testRepeatAddsCommits},
	{"ARepeatListingACommitMadeAfterTheRecordedFinishIsRefusedWhole", testRepeatRefusesLateCommits},
	{"ConcurrentRepeatsAddACommitOnce", testConcurrentRepeatsAddACommitOnce},
	{"DeliveryFactsCountDeploymentsPerUTCDayFromInclusiveToExclusive", testDeliveryFactsDays},
	{"DeliveryFactsLeaveOtherServicesAndEnvironmentsOut", testDeliveryFactsScope},
	{"DeliveryFactsLeadTimesAreOfSuccessfulDeploymentsCommitsOnly", testDeliveryFactsLeadTimes},
	{"DeliveryFactsAgreeOnWholeDaysAndPartsOfDays", testDeliveryFactsWholeAndPartDays},
	{"DeliveryFactsCountTheDeploymentsToEveryEnvironmentAsked", testDeliveryFactsEnvironments},
	{"AnIncidentNamingARevisionMarksItsDeploymentsWhicheverIsRecordedFirst", testIncidentCauseMarksDeployments},
	{"ConcurrentDeploymentsAndIncidentsNamingThemAlwaysMeet", testConcurrentDeploymentsAndIncidents},
	{"RecordIncidentIsIdempotentOnItsServiceAndIDAndRoundTripsInUTCMicroseconds", testRecordIncidentIdempotent},
	{"IncidentsOfTwoServicesWithOneIDAreTwoIncidents", testIncidentIDsPerService},
	{"ResolveIncidentResolvesOnceAtOneTime", testResolveIncident},
	{"DeliveryFactsRestoreTimesAreOfIncidentsResolvedInThePeriod", testDeliveryFactsRestoreTimes},
	{"DeliveryFactsOfNoServicesOrNoEnvironmentsAreEmpty", testDeliveryFactsOfNoServicesOrEnvironments},
	{"SupportTicketsAreIdempotentOnTheirScopeAndIDAndCountedPerCategory", testSupportTickets},
	{"ServiceNamesAreATeamsOrEveryServiceInByteOrder", testServiceNames},
}

// The day the metrics tests happen on, and the services they deploy.
var metricsDay = time.Date(2031, 5, 14, 0, 0, 0, 0, time.UTC)

// at is a time on the metrics tests' day.
func at(hour, minute int) time.Time {
	return metricsDay.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// deployment is a successful production deployment of orders that took
// ten minutes, with commits made the given durations before it finished.
func deployment(revision string, finished time.Time, leadTimes ...time.Duration) store.Deployment {
	d := store.Deployment{
		Service: "orders", Environment: "production", Revision: revision, Status: store.DeploymentSucceeded,
		StartedAt: finished.Add(-10 * time.Minute), FinishedAt: finished,
	}
	for i, lead := range leadTimes {
		d.Commits = append(d.Commits, store.Commit{SHA: fmt.Sprintf("%s-%d", revision, i), CommittedAt: finished.Add(-lead)})
	}
	return d
}

func recordDeployment(t *testing.T, s store.Store, d store.Deployment) {
	t.Helper()
	recorded, err := s.RecordDeployment(t.Context(), d)
	require.NoError(t, err)
	require.True(t, recorded.Created, "deployment of %s at %s", d.Service, d.Revision)
	require.Equal(t, d.Commits, recorded.AddedCommits, "a new deployment's commits are all added")
}

func recordIncident(t *testing.T, s store.Store, i store.Incident) {
	t.Helper()
	created, err := s.RecordIncident(t.Context(), i)
	require.NoError(t, err)
	require.True(t, created, "incident %s", i.ID)
}

// factsOfDay are the delivery facts of orders' production deployments on
// the metrics tests' day.
func factsOfDay(t *testing.T, s store.Store) store.DeliveryFacts {
	t.Helper()
	facts, err := s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, metricsDay, metricsDay.AddDate(0, 0, 1))
	require.NoError(t, err)
	return facts
}

// sortedDurations returns ds sorted, for comparing sets of durations.
func sortedDurations(ds []time.Duration) []time.Duration {
	return slices.Sorted(slices.Values(ds))
}

func testRecordDeploymentIdempotent(t *testing.T, s store.Store) {
	first := deployment("v1", at(10, 0), time.Hour, 2*time.Hour)
	recordDeployment(t, s, first)

	// Another status, another finish and the same commits at other times:
	// the first report wins, and no commit is new.
	again := first
	again.Status = store.DeploymentFailed
	again.FinishedAt = at(11, 0)
	again.Commits = slices.Clone(first.Commits)
	again.Commits[0].CommittedAt = at(8, 0)
	recorded, err := s.RecordDeployment(t.Context(), again)
	require.NoError(t, err)
	require.Equal(t, store.RecordedDeployment{Status: store.DeploymentSucceeded, FinishedAt: at(10, 0)}, recorded)

	facts := factsOfDay(t, s)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 1}}, facts.Days)
	require.Equal(t, []time.Duration{time.Hour, 2 * time.Hour}, sortedDurations(facts.LeadTimes))
}

func testRecordDeploymentKey(t *testing.T, s store.Store) {
	base := deployment("v1", at(10, 0))
	recordDeployment(t, s, base)

	otherService, otherEnvironment, otherRevision, otherStart := base, base, base, base
	otherService.Service = "cart"
	otherEnvironment.Environment = "staging"
	otherRevision.Revision = "v2"
	otherStart.StartedAt = base.StartedAt.Add(time.Microsecond)
	for _, d := range []store.Deployment{otherService, otherEnvironment, otherRevision, otherStart} {
		recordDeployment(t, s, d)
	}
	// A start time that differs below the microsecond is the same key.
	sameStart := base
	sameStart.StartedAt = base.StartedAt.Add(500 * time.Nanosecond)
	recorded, err := s.RecordDeployment(t.Context(), sameStart)
	require.NoError(t, err)
	require.False(t, recorded.Created)

	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 3}}, factsOfDay(t, s).Days)
}

// testRepeatAddsCommits records deployments as Argo CD's history reports
// them, without commits, then repeats them as its notifications do, with
// the deployed commit and another finish time.
func testRepeatAddsCommits(t *testing.T, s store.Store) {
	first := deployment("v1", at(10, 0), time.Hour)
	recordDeployment(t, s, first)
	failed := deployment("v2", at(12, 0))
	failed.Status = store.DeploymentFailed
	recordDeployment(t, s, failed)

	// The listed commit stays as first recorded; the new one counts from
	// the first report's finish, on its day, not from the repeat's (the
	// next day). The repeat's status changes nothing either.
	again := first
	again.Status = store.DeploymentFailed
	again.FinishedAt = at(26, 0)
	added := store.Commit{SHA: "9f2c1e7a", CommittedAt: at(7, 0)}
	again.Commits = []store.Commit{{SHA: first.Commits[0].SHA, CommittedAt: at(6, 0)}, added}
	recorded, err := s.RecordDeployment(t.Context(), again)
	require.NoError(t, err)
	require.Equal(t, store.RecordedDeployment{Status: store.DeploymentSucceeded, FinishedAt: at(10, 0), AddedCommits: []store.Commit{added}}, recorded)
	// The same commits again add nothing.
	recorded, err = s.RecordDeployment(t.Context(), again)
	require.NoError(t, err)
	require.Equal(t, store.RecordedDeployment{Status: store.DeploymentSucceeded, FinishedAt: at(10, 0)}, recorded)
	// A failed deployment's repeat adds its commits, which count for no lead
	// time.
	failedAgain := failed
	failedAgain.Commits = []store.Commit{{SHA: "c0ffee", CommittedAt: at(11, 0)}}
	recorded, err = s.RecordDeployment(t.Context(), failedAgain)
	require.NoError(t, err)
	require.Equal(t, store.RecordedDeployment{Status: store.DeploymentFailed, FinishedAt: at(12, 0), AddedCommits: failedAgain.Commits}, recorded)

	// The day's counts (a whole day) and the deployments themselves (a
	// part of it) agree: each lead time once.
	wantDays := []store.DeploymentDay{{Day: metricsDay, Succeeded: 1, Failed: 1}}
	wantLeadTimes := []time.Duration{time.Hour, 3 * time.Hour}
	facts := factsOfDay(t, s)
	require.Equal(t, wantDays, facts.Days)
	require.Equal(t, wantLeadTimes, sortedDurations(facts.LeadTimes))
	facts, err = s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, at(9, 0), at(13, 0))
	require.NoError(t, err)
	require.Equal(t, wantDays, facts.Days)
	require.Equal(t, wantLeadTimes, sortedDurations(facts.LeadTimes))
	facts, err = s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, metricsDay.AddDate(0, 0, 1), metricsDay.AddDate(0, 0, 2))
	require.NoError(t, err)
	require.Empty(t, facts.Days)
	require.Empty(t, facts.LeadTimes)
}

func testRepeatRefusesLateCommits(t *testing.T, s store.Store) {
	first := deployment("v1", at(10, 0))
	recordDeployment(t, s, first)

	// The repeat finished later, so its commits pass its own check, but
	// one of them came after the deployment recorded first.
	again := first
	again.FinishedAt = at(11, 0)
	again.Commits = []store.Commit{
		{SHA: "before", CommittedAt: at(9, 0)},
		{SHA: "after", CommittedAt: at(10, 30)},
		{SHA: "as-it-finished", CommittedAt: at(10, 0)},
		{SHA: "a-microsecond-after", CommittedAt: at(10, 0).Add(time.Microsecond)},
	}
	_, err := s.RecordDeployment(t.Context(), again)
	var late *store.CommitsAfterFinishError
	require.ErrorAs(t, err, &late)
	require.Equal(t, at(10, 0), late.FinishedAt)
	require.Equal(t, []int{1, 3}, late.Commits)
	require.Empty(t, factsOfDay(t, s).LeadTimes, "a refused repeat adds nothing")

	again.Commits = []store.Commit{again.Commits[0], again.Commits[2]}
	recorded, err := s.RecordDeployment(t.Context(), again)
	require.NoError(t, err)
	require.Equal(t, again.Commits, recorded.AddedCommits)
	require.Equal(t, []time.Duration{0, time.Hour}, sortedDurations(factsOfDay(t, s).LeadTimes))
}

func testConcurrentRepeatsAddACommitOnce(t *testing.T, s store.Store) {
	first := deployment("v1", at(10, 0))
	recordDeployment(t, s, first)
	again := first
	again.Commits = []store.Commit{{SHA: "9f2c1e7a", CommittedAt: at(9, 0)}}

	const repeats = 8
	recorded := make([]store.RecordedDeployment, repeats)
	errs := make([]error, repeats)
	var wg sync.WaitGroup
	for i := range repeats {
		wg.Go(func() { recorded[i], errs[i] = s.RecordDeployment(t.Context(), again) })
	}
	wg.Wait()

	adders := 0
	for i := range repeats {
		require.NoError(t, errs[i], "repeat %d", i)
		require.False(t, recorded[i].Created)
		adders += len(recorded[i].AddedCommits)
	}
	require.Equal(t, 1, adders, "one repeat adds the commit")
	require.Equal(t, []time.Duration{time.Hour}, factsOfDay(t, s).LeadTimes)
}

func testDeliveryFactsDays(t *testing.T, s store.Store) {
	from, to := at(6, 0), at(6, 0).AddDate(0, 0, 2)
	failed := func(d store.Deployment) store.Deployment { d.Status = store.DeploymentFailed; return d }
	// 00:30 on 15 May in Paris is still 14 May in UTC.
	paris := time.FixedZone("CEST", 2*3600)
	for _, d := range []store.Deployment{
		deployment("before", from.Add(-time.Microsecond)),
		deployment("first", from),
		failed(deployment("failed", at(12, 0))),
		deployment("paris", time.Date(2031, 5, 15, 0, 30, 0, 0, paris)),
		deployment("next-day", at(30, 0)),
		failed(deployment("last", to.Add(-time.Microsecond))),
		deployment("at-end", to),
	} {
		recordDeployment(t, s, d)
	}

	facts, err := s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, from, to)
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{
		{Day: metricsDay, Succeeded: 2, Failed: 1},
		{Day: metricsDay.AddDate(0, 0, 1), Succeeded: 1},
		{Day: metricsDay.AddDate(0, 0, 2), Failed: 1},
	}, facts.Days)
}

func testDeliveryFactsScope(t *testing.T, s store.Store) {
	orders := deployment("v1", at(10, 0), time.Hour)
	cart := deployment("v1", at(11, 0), 2*time.Hour)
	cart.Service = "cart"
	search := deployment("v1", at(12, 0), 3*time.Hour)
	search.Service = "search"
	staging := deployment("v2", at(13, 0), 4*time.Hour)
	staging.Environment = "staging"
	for _, d := range []store.Deployment{orders, cart, search, staging} {
		recordDeployment(t, s, d)
	}
	for _, i := range []store.Incident{
		{ID: "INC-1", Service: "orders", OpenedAt: at(14, 0), ResolvedAt: at(15, 0)},
		{ID: "INC-2", Service: "cart", OpenedAt: at(14, 0), ResolvedAt: at(16, 0)},
		{ID: "INC-3", Service: "search", OpenedAt: at(14, 0), ResolvedAt: at(17, 0)},
	} {
		recordIncident(t, s, i)
	}

	facts, err := s.DeliveryFacts(t.Context(), []string{"orders", "cart"}, []string{"production"}, metricsDay, metricsDay.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 2}}, facts.Days)
	require.Equal(t, []time.Duration{time.Hour, 2 * time.Hour}, sortedDurations(facts.LeadTimes))
	require.Equal(t, []time.Duration{time.Hour, 2 * time.Hour}, sortedDurations(facts.RestoreTimes))

	facts, err = s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"staging"}, metricsDay, metricsDay.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 1}}, facts.Days)
	require.Equal(t, []time.Duration{4 * time.Hour}, facts.LeadTimes)
}

func testDeliveryFactsLeadTimes(t *testing.T, s store.Store) {
	recordDeployment(t, s, deployment("v1", at(10, 0), 90*time.Minute, 26*time.Hour+time.Microsecond))
	recordDeployment(t, s, deployment("no-commits", at(11, 0)))
	failed := deployment("v2", at(12, 0), 5*time.Minute)
	failed.Status = store.DeploymentFailed
	recordDeployment(t, s, failed)
	// Committed as it finished: a lead time of zero counts.
	recordDeployment(t, s, deployment("v3", at(13, 0), 0))

	facts := factsOfDay(t, s)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 3, Failed: 1}}, facts.Days)
	require.Equal(t, []time.Duration{0, 90 * time.Minute, 26*time.Hour + time.Microsecond}, sortedDurations(facts.LeadTimes))
}

func testDeliveryFactsWholeAndPartDays(t *testing.T, s store.Store) {
	failed := deployment("failed", at(20, 0), time.Hour)
	failed.Status = store.DeploymentFailed
	for _, d := range []store.Deployment{
		deployment("evening-before", at(-6, 0), time.Minute),
		deployment("morning", at(8, 0), time.Hour, 2*time.Hour),
		deployment("named", at(12, 0), 3*time.Hour),
		failed,
		deployment("next-morning", at(30, 0), 4*time.Hour),
		deployment("next-noon", at(36, 0), 5*time.Hour),
	} {
		recordDeployment(t, s, d)
	}
	recordIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(13, 0), CauseRevision: "named"})

	// Noon to noon: half of the day before, the whole day, half the day
	// after (next-noon is at its end, left out).
	facts, err := s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, at(-12, 0), at(36, 0))
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{
		{Day: metricsDay.AddDate(0, 0, -1), Succeeded: 1},
		{Day: metricsDay, Succeeded: 2, Failed: 1, IncidentCausing: 1},
		{Day: metricsDay.AddDate(0, 0, 1), Succeeded: 1},
	}, facts.Days)
	require.Equal(t, []time.Duration{time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour}, sortedDurations(facts.LeadTimes))

	// A part of one day.
	facts, err = s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, at(7, 0), at(21, 0))
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 2, Failed: 1, IncidentCausing: 1}}, facts.Days)
	require.Equal(t, []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour}, sortedDurations(facts.LeadTimes))
}

func testDeliveryFactsEnvironments(t *testing.T, s store.Store) {
	to := func(environment string, d store.Deployment) store.Deployment { d.Environment = environment; return d }
	failed := to("production-us", deployment("us-v2", at(12, 0), time.Hour))
	failed.Status = store.DeploymentFailed
	for _, d := range []store.Deployment{
		to("production-eu", deployment("eu-evening-before", at(-6, 0), time.Minute)),
		to("production-eu", deployment("eu-v1", at(10, 0), time.Hour)),
		to("production-us", deployment("us-v1", at(11, 0), 2*time.Hour)),
		failed,
		to("staging", deployment("staging-v1", at(13, 0), 3*time.Hour)),
		to("production-us", deployment("us-next-morning", at(30, 0), 4*time.Hour)),
		to("staging", deployment("staging-next-morning", at(31, 0), 5*time.Hour)),
	} {
		recordDeployment(t, s, d)
	}
	recordIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(14, 0), CauseRevision: "eu-v1"})

	// Noon to noon, so that both the whole day and the parts of days count
	// both environments, and never staging.
	facts, err := s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production-eu", "production-us"}, at(-12, 0), at(36, 0))
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{
		{Day: metricsDay.AddDate(0, 0, -1), Succeeded: 1},
		{Day: metricsDay, Succeeded: 2, Failed: 1, IncidentCausing: 1},
		{Day: metricsDay.AddDate(0, 0, 1), Succeeded: 1},
	}, facts.Days)
	require.Equal(t, []time.Duration{time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour}, sortedDurations(facts.LeadTimes))

	facts, err = s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production-eu"}, at(-12, 0), at(36, 0))
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{
		{Day: metricsDay.AddDate(0, 0, -1), Succeeded: 1},
		{Day: metricsDay, Succeeded: 1, IncidentCausing: 1},
	}, facts.Days)
	require.Equal(t, []time.Duration{time.Minute, time.Hour}, sortedDurations(facts.LeadTimes))
}

func testIncidentCauseMarksDeployments(t *testing.T, s store.Store) {
	// The incident comes before the deployment it names...
	recordIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(9, 0), CauseRevision: "v1"})
	recordDeployment(t, s, deployment("v1", at(10, 0)))
	// ... or after it; a staging deployment of the revision is marked but
	// counts only in staging.
	recordDeployment(t, s, deployment("v2", at(11, 0)))
	staging := deployment("v2", at(10, 30))
	staging.Environment = "staging"
	recordDeployment(t, s, staging)
	recordIncident(t, s, store.Incident{ID: "INC-2", Service: "orders", OpenedAt: at(12, 0), CauseRevision: "v2"})
	// A failed deployment of a named revision counts as failed, once.
	failed := deployment("v3", at(13, 0))
	failed.Status = store.DeploymentFailed
	recordDeployment(t, s, failed)
	recordIncident(t, s, store.Incident{ID: "INC-3", Service: "orders", OpenedAt: at(14, 0), CauseRevision: "v3"})
	// Another service's revision of the same name, and a revision nobody
	// names, are not marked.
	cart := deployment("v1", at(15, 0))
	cart.Service = "cart"
	recordDeployment(t, s, cart)
	recordDeployment(t, s, deployment("v4", at(16, 0)))
	// A second incident naming a marked revision changes nothing.
	recordIncident(t, s, store.Incident{ID: "INC-4", Service: "orders", OpenedAt: at(17, 0), CauseRevision: "v1"})

	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 3, Failed: 1, IncidentCausing: 2}}, factsOfDay(t, s).Days)
	// A part of the day, counted from the deployments themselves rather
	// than from the day's counts, says the same.
	facts, err := s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, at(9, 30), at(16, 30))
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 3, Failed: 1, IncidentCausing: 2}}, facts.Days)
	facts, err = s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"staging"}, metricsDay, metricsDay.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 1, IncidentCausing: 1}}, facts.Days)
	facts, err = s.DeliveryFacts(t.Context(), []string{"cart"}, []string{"production"}, metricsDay, metricsDay.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 1}}, facts.Days)
}

func testConcurrentDeploymentsAndIncidents(t *testing.T, s store.Store) {
	const revisions = 24
	errs := make([]error, 2*revisions)
	var wg sync.WaitGroup
	for i := range revisions {
		revision := fmt.Sprintf("v%d", i)
		wg.Go(func() {
			_, errs[2*i] = s.RecordDeployment(t.Context(), deployment(revision, at(10, i)))
		})
		wg.Go(func() {
			_, errs[2*i+1] = s.RecordIncident(t.Context(), store.Incident{
				ID: "INC-" + revision, Service: "orders", OpenedAt: at(11, i), CauseRevision: revision,
			})
		})
	}
	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
	}
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: revisions, IncidentCausing: revisions}}, factsOfDay(t, s).Days)
}

func testRecordIncidentIdempotent(t *testing.T, s store.Store) {
	paris := time.FixedZone("CEST", 2*3600)
	open := store.Incident{
		ID: "INC-1", Service: "orders", OpenedAt: time.Date(2031, 5, 14, 12, 0, 0, 1_234_567, paris), CauseRevision: "v1",
	}
	recordIncident(t, s, open)
	resolved := store.Incident{
		ID: "INC-2", Service: "cart", OpenedAt: at(9, 0), ResolvedAt: at(9, 45),
	}
	recordIncident(t, s, resolved)

	again := open
	again.OpenedAt = at(8, 0)
	again.ResolvedAt = at(13, 0)
	created, err := s.RecordIncident(t.Context(), again)
	require.NoError(t, err)
	require.False(t, created)

	got, err := s.GetIncident(t.Context(), "orders", "INC-1")
	require.NoError(t, err)
	require.Equal(t, store.Incident{
		ID: "INC-1", Service: "orders", OpenedAt: time.Date(2031, 5, 14, 10, 0, 0, 1_234_000, time.UTC), CauseRevision: "v1",
	}, got)
	got, err = s.GetIncident(t.Context(), "cart", "INC-2")
	require.NoError(t, err)
	require.Equal(t, resolved, got)
	_, err = s.GetIncident(t.Context(), "cart", "INC-1")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetIncident(t.Context(), "orders", "INC-3")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// The incident id squatted by one team's service never shadows another
// team's incident of the same id: each is recorded, found, resolved and
// counted on its own.
func testIncidentIDsPerService(t *testing.T, s store.Store) {
	squat := store.Incident{ID: "INC-1043", Service: "cart", OpenedAt: at(8, 0)}
	real := store.Incident{ID: "INC-1043", Service: "orders", OpenedAt: at(9, 0)}
	recordIncident(t, s, squat)
	recordIncident(t, s, real)
	recordIncident(t, s, store.Incident{ID: "INC-7", Service: "orders", OpenedAt: at(9, 0)})

	found, err := s.FindIncidents(t.Context(), "INC-1043")
	require.NoError(t, err)
	require.Equal(t, []store.Incident{squat, real}, found, "in service order")
	found, err = s.FindIncidents(t.Context(), "INC-9")
	require.NoError(t, err)
	require.Empty(t, found)

	resolved, err := s.ResolveIncident(t.Context(), "orders", "INC-1043", at(10, 0))
	require.NoError(t, err)
	require.Equal(t, at(10, 0), resolved.ResolvedAt)
	got, err := s.GetIncident(t.Context(), "cart", "INC-1043")
	require.NoError(t, err)
	require.Equal(t, squat, got, "the other service's incident stays open")
	_, err = s.ResolveIncident(t.Context(), "search", "INC-1043", at(10, 0))
	require.ErrorIs(t, err, store.ErrNotFound)

	facts, err := s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, at(0, 0), at(24, 0))
	require.NoError(t, err)
	require.Equal(t, []time.Duration{time.Hour}, facts.RestoreTimes)
}

func testResolveIncident(t *testing.T, s store.Store) {
	recordIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(9, 0)})
	want := store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(9, 0), ResolvedAt: at(10, 30)}

	got, err := s.ResolveIncident(t.Context(), "orders", "INC-1", at(10, 30))
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = s.ResolveIncident(t.Context(), "orders", "INC-1", at(10, 30))
	require.NoError(t, err, "resolving again at the same time")
	require.Equal(t, want, got)

	_, err = s.ResolveIncident(t.Context(), "orders", "INC-1", at(11, 0))
	require.ErrorIs(t, err, store.ErrConflict)
	got, err = s.GetIncident(t.Context(), "orders", "INC-1")
	require.NoError(t, err)
	require.Equal(t, want, got, "a conflicting resolution changes nothing")

	_, err = s.ResolveIncident(t.Context(), "orders", "INC-2", at(11, 0))
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testDeliveryFactsRestoreTimes(t *testing.T, s store.Store) {
	from, to := at(6, 0), at(18, 0)
	for _, i := range []store.Incident{
		{ID: "resolved-inside", Service: "orders", OpenedAt: at(7, 0), ResolvedAt: at(7, 20)},
		{ID: "opened-before", Service: "orders", OpenedAt: at(-20, 0), ResolvedAt: from},
		{ID: "resolved-before", Service: "orders", OpenedAt: at(1, 0), ResolvedAt: from.Add(-time.Microsecond)},
		{ID: "resolved-at-end", Service: "orders", OpenedAt: at(17, 0), ResolvedAt: to},
		{ID: "still-open", Service: "orders", OpenedAt: at(8, 0)},
		{ID: "resolved-later", Service: "orders", OpenedAt: at(9, 0)},
		{ID: "other-service", Service: "cart", OpenedAt: at(9, 0), ResolvedAt: at(10, 0)},
	} {
		recordIncident(t, s, i)
	}
	_, err := s.ResolveIncident(t.Context(), "orders", "resolved-later", at(12, 0))
	require.NoError(t, err)

	facts, err := s.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, from, to)
	require.NoError(t, err)
	require.Equal(t, []time.Duration{20 * time.Minute, 3 * time.Hour, 26 * time.Hour}, sortedDurations(facts.RestoreTimes))
	require.Empty(t, facts.Days)
	require.Empty(t, facts.LeadTimes)
}

func testDeliveryFactsOfNoServicesOrEnvironments(t *testing.T, s store.Store) {
	recordDeployment(t, s, deployment("v1", at(10, 0), time.Hour))
	recordIncident(t, s, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(11, 0), ResolvedAt: at(12, 0)})

	facts, err := s.DeliveryFacts(t.Context(), nil, []string{"production"}, metricsDay, metricsDay.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Empty(t, facts.Days)
	require.Empty(t, facts.LeadTimes)
	require.Empty(t, facts.RestoreTimes)

	// No environment is a promotion path that marks none production-like:
	// nothing to measure, not even the services' incidents.
	facts, err = s.DeliveryFacts(t.Context(), []string{"orders"}, nil, metricsDay, metricsDay.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Empty(t, facts.Days)
	require.Empty(t, facts.LeadTimes)
	require.Empty(t, facts.RestoreTimes)
}

func testSupportTickets(t *testing.T, s store.Store) {
	for _, ticket := range []store.SupportTicket{
		{Scope: "teams/payments", ID: "SUP-1", Category: "provisioning", Team: "payments", OpenedAt: at(9, 0)},
		{Scope: "principals/ci", ID: "SUP-2", Category: "ci", OpenedAt: at(10, 0)},
		{Scope: "teams/search", ID: "SUP-3", Category: "provisioning", Team: "search", OpenedAt: at(11, 0)},
		{Scope: "teams/search", ID: "SUP-4", Category: "access", Team: "search", OpenedAt: at(12, 0)},
		{Scope: "teams/search", ID: "SUP-5", Category: "ci", Team: "search", OpenedAt: at(30, 0)},
		// Another scope's ticket of an id taken elsewhere is its own.
		{Scope: "teams/search", ID: "SUP-1", Category: "access", Team: "search", OpenedAt: at(10, 30)},
	} {
		created, err := s.RecordSupportTicket(t.Context(), ticket)
		require.NoError(t, err)
		require.True(t, created, ticket.ID)
	}
	created, err := s.RecordSupportTicket(t.Context(), store.SupportTicket{
		Scope: "teams/payments", ID: "SUP-1", Category: "ci", Team: "payments", OpenedAt: at(9, 0),
	})
	require.NoError(t, err)
	require.False(t, created)

	counts, err := s.CountSupportTickets(t.Context(), at(9, 0), at(12, 0))
	require.NoError(t, err)
	require.Equal(t, []store.TicketCount{{Category: "access", Count: 1}, {Category: "ci", Count: 1}, {Category: "provisioning", Count: 2}}, counts)
	counts, err = s.CountSupportTickets(t.Context(), metricsDay.AddDate(0, 0, 2), metricsDay.AddDate(0, 0, 3))
	require.NoError(t, err)
	require.Empty(t, counts)
}

func testServiceNames(t *testing.T, s store.Store) {
	for _, svc := range []struct{ name, team string }{
		{"orders", "payments"}, {"Cart", "payments"}, {"billing", "payments"}, {"search", "discovery"},
	} {
		upsert(t, s, &store.Service{Name: svc.name, Team: svc.team})
	}

	names, err := s.ServiceNames(t.Context(), "payments")
	require.NoError(t, err)
	require.Equal(t, []string{"Cart", "billing", "orders"}, names)
	names, err = s.ServiceNames(t.Context(), "")
	require.NoError(t, err)
	require.Equal(t, []string{"Cart", "billing", "orders", "search"}, names)
	names, err = s.ServiceNames(t.Context(), "nobody")
	require.NoError(t, err)
	require.Empty(t, names)
}
