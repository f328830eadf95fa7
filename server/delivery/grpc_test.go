package delivery

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/store"
)

// handlerTest is MetricsService over a SQLite store holding orders (team
// checkout) and search (team search), with the tests' clock.
type handlerTest struct {
	store    store.Store
	server   *Server
	registry *prometheus.Registry
}

func newHandlerTest(t *testing.T) handlerTest {
	st := openSQLite(t)
	addService(t, st, "orders", "checkout")
	addService(t, st, "search", "search")
	s, registry := newService(st)
	return handlerTest{store: st, server: NewServer(s, NewPlatform(st, nil)), registry: registry}
}

// asAdmin and asDeveloperOf are callers as the guard leaves them in the
// context.
func asAdmin() context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{Name: "admin", Roles: []auth.Role{auth.RoleAdmin}, AllTeams: true})
}

func asDeveloperOf(team string) context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{
		Name: "ci-" + team, Roles: []auth.Role{auth.RoleDeveloper}, Teams: []string{team},
	})
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// deploymentRequest is a successful production deployment of orders that
// finished a day ago, with two commits.
func deploymentRequest() *cairnv1.RecordDeploymentRequest {
	return &cairnv1.RecordDeploymentRequest{
		Service: "orders", Environment: "production", Revision: "v1.4.0", Status: "succeeded",
		StartedAt: ts(ago(1, -10*time.Minute)), FinishedAt: ts(ago(1, 0)),
		Commits: []*cairnv1.Commit{
			{Sha: "a1b2c3d", CommittedAt: ts(ago(1, -2*time.Hour))},
			{Sha: "e4f5a6b", CommittedAt: ts(ago(2, 0))},
		},
	}
}

// leadTimeObservations counts the observations of
// platform_lead_time_seconds for a team's service, and sums them.
func leadTimeObservations(t *testing.T, registry *prometheus.Registry, team, service string) (count uint64, sum float64) {
	t.Helper()
	families, err := registry.Gather()
	require.NoError(t, err)
	for _, family := range families {
		if family.GetName() != "platform_lead_time_seconds" {
			continue
		}
		for _, m := range family.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["team"] == team && labels["service"] == service {
				return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
			}
		}
	}
	return 0, 0
}

// violatedFields are the fields of err's BadRequest, as a client sees it.
func violatedFields(t *testing.T, err error) []string {
	t.Helper()
	rewritten, _ := apierr.Rewrite(err, "/test")
	require.Equal(t, codes.InvalidArgument, status.Code(rewritten), "%v", err)
	var fields []string
	for _, d := range status.Convert(rewritten).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

// errorReason is the ErrorInfo reason of err, as a client sees it.
func errorReason(t *testing.T, err error) string {
	t.Helper()
	rewritten, _ := apierr.Rewrite(err, "/cairn.v1.MetricsService/Test")
	for _, d := range status.Convert(rewritten).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func TestRecordDeploymentIsCreatedOnceAndObservesItsLeadTimesOnce(t *testing.T) {
	h := newHandlerTest(t)
	ctx := asDeveloperOf("checkout")

	resp, err := h.server.RecordDeployment(ctx, deploymentRequest())
	require.NoError(t, err)
	require.True(t, resp.GetCreated())
	resp, err = h.server.RecordDeployment(ctx, deploymentRequest())
	require.NoError(t, err)
	require.False(t, resp.GetCreated())

	count, sum := leadTimeObservations(t, h.registry, "checkout", "orders")
	require.Equal(t, uint64(2), count, "one observation per commit, once")
	require.InDelta(t, (2*time.Hour + 24*time.Hour).Seconds(), sum, 1e-6)

	// Neither a staging nor a failed deployment is a change delivered.
	staging := deploymentRequest()
	staging.Environment = "staging"
	failed := deploymentRequest()
	failed.Revision, failed.Status = "v1.4.1", "failed"
	for _, req := range []*cairnv1.RecordDeploymentRequest{staging, failed} {
		resp, err := h.server.RecordDeployment(ctx, req)
		require.NoError(t, err)
		require.True(t, resp.GetCreated())
	}
	count, _ = leadTimeObservations(t, h.registry, "checkout", "orders")
	require.Equal(t, uint64(2), count)
}

// deploymentsCounted is platform_deployments_total for a team's
// deployments to an environment with a status.
func deploymentsCounted(t *testing.T, registry *prometheus.Registry, team, environment, status string) float64 {
	t.Helper()
	families, err := registry.Gather()
	require.NoError(t, err)
	want := map[string]string{"team": team, "environment": environment, "status": status}
	for _, family := range families {
		if family.GetName() != "platform_deployments_total" {
			continue
		}
		for _, m := range family.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if maps.Equal(labels, want) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// A deployment reported first without commits, as Argo CD's history reports
// it, then with its commit, as Argo CD notifications do: the repeat adds
// the commit, observed once, with its lead time from the first report's
// finish.
func TestARepeatedDeploymentObservesTheCommitsItAddsOnce(t *testing.T) {
	h := newHandlerTest(t)
	ctx := asDeveloperOf("checkout")
	fromHistory := deploymentRequest()
	fromHistory.Commits = nil
	resp, err := h.server.RecordDeployment(ctx, fromHistory)
	require.NoError(t, err)
	require.True(t, resp.GetCreated())

	// The notification's finish is a minute later than the history's, and
	// its status another: the first report's stand.
	notified := deploymentRequest()
	notified.Status = "failed"
	notified.FinishedAt = ts(ago(1, time.Minute))
	notified.Commits = []*cairnv1.Commit{{Sha: "a1b2c3d", CommittedAt: ts(ago(1, -3*time.Hour))}}
	for range 2 {
		resp, err = h.server.RecordDeployment(ctx, notified)
		require.NoError(t, err)
		require.False(t, resp.GetCreated())
		count, sum := leadTimeObservations(t, h.registry, "checkout", "orders")
		require.Equal(t, uint64(1), count, "the added commit, once")
		require.InDelta(t, (3 * time.Hour).Seconds(), sum, 1e-6)
	}
	require.Equal(t, 1.0, deploymentsCounted(t, h.registry, "checkout", "production", "succeeded"))
	require.Zero(t, deploymentsCounted(t, h.registry, "checkout", "production", "failed"))

	// A commit made after the recorded finish, though before the repeat's,
	// is refused as one after the request's own finish would be.
	late := deploymentRequest()
	late.FinishedAt = ts(ago(1, time.Minute))
	late.Commits = []*cairnv1.Commit{
		{Sha: "e4f5a6b", CommittedAt: ts(ago(2, 0))},
		{Sha: "f00d", CommittedAt: ts(ago(1, 30*time.Second))},
	}
	_, err = h.server.RecordDeployment(ctx, late)
	require.Equal(t, []string{"commits[1].committed_at"}, violatedFields(t, err))

	count, _ := leadTimeObservations(t, h.registry, "checkout", "orders")
	require.Equal(t, uint64(1), count, "a refused repeat observes nothing")
	dora, err := h.server.GetServiceDora(ctx, &cairnv1.GetServiceDoraRequest{Name: "services/orders", Window: "7d"})
	require.NoError(t, err)
	requireProto(t, &cairnv1.DoraMetric{Value: 3 * 3600, Unit: UnitSeconds, Band: BandElite, SampleCount: 1}, dora.GetDora().GetLeadTimeForChanges())

	// A failed deployment's added commits are no change delivered.
	failed := deploymentRequest()
	failed.Revision, failed.Status, failed.Commits = "v1.4.1", "failed", nil
	_, err = h.server.RecordDeployment(ctx, failed)
	require.NoError(t, err)
	failed.Commits = []*cairnv1.Commit{{Sha: "b0b0", CommittedAt: ts(ago(2, 0))}}
	_, err = h.server.RecordDeployment(ctx, failed)
	require.NoError(t, err)
	count, _ = leadTimeObservations(t, h.registry, "checkout", "orders")
	require.Equal(t, uint64(1), count)
}

func TestBadEventsReportEveryViolationAndChangeNothing(t *testing.T) {
	h := newHandlerTest(t)
	ctx := asAdmin()

	bad := deploymentRequest()
	bad.Environment = "Production"
	bad.StartedAt = nil
	bad.FinishedAt = ts(ago(1, 0))
	bad.Commits = append(bad.Commits,
		&cairnv1.Commit{Sha: "a1b2c3d", CommittedAt: ts(ago(3, 0))},
		&cairnv1.Commit{Sha: "f00d", CommittedAt: ts(ago(0, 0))},
		&cairnv1.Commit{Sha: "not a sha"},
	)
	_, err := h.server.RecordDeployment(ctx, bad)
	require.Equal(t, []string{
		"environment", "started_at",
		"commits[2].sha", "commits[3].committed_at", "commits[4].sha", "commits[4].committed_at",
	}, violatedFields(t, err))

	backwards := deploymentRequest()
	backwards.FinishedAt = ts(ago(2, 0))
	_, err = h.server.RecordDeployment(ctx, backwards)
	require.Equal(t, []string{"finished_at", "commits[0].committed_at"}, violatedFields(t, err))

	_, err = h.server.RecordIncident(ctx, &cairnv1.RecordIncidentRequest{
		Id: "INC-1", Service: "orders", OpenedAt: ts(ago(1, 0)), ResolvedAt: ts(ago(2, 0)), CauseRevision: "v1\x00",
	})
	require.Equal(t, []string{"resolved_at", "cause_revision"}, violatedFields(t, err))

	_, err = h.server.RecordSupportTicket(ctx, &cairnv1.RecordSupportTicketRequest{Id: "SUP-1", Category: "CI", Team: "team x"})
	require.Equal(t, []string{"category", "team", "opened_at"}, violatedFields(t, err))

	facts, err := h.store.DeliveryFacts(t.Context(), []string{"orders"}, []string{"production"}, ago(30, 0), now)
	require.NoError(t, err)
	require.Empty(t, facts.Days)
	require.Empty(t, facts.RestoreTimes)
	_, err = h.store.GetIncident(t.Context(), "orders", "INC-1")
	require.ErrorIs(t, err, store.ErrNotFound)
	counts, err := h.store.CountSupportTickets(t.Context(), time.Time{}, now.AddDate(1, 0, 0))
	require.NoError(t, err)
	require.Empty(t, counts)
}

func TestEventsOfServicesNotInTheCatalogAreNotFound(t *testing.T) {
	h := newHandlerTest(t)
	ctx := asAdmin()

	req := deploymentRequest()
	req.Service = "ghost"
	_, err := h.server.RecordDeployment(ctx, req)
	requireCode(t, codes.NotFound, err)
	require.Equal(t, "SERVICE_NOT_FOUND", errorReason(t, err))
	_, err = h.server.RecordIncident(ctx, &cairnv1.RecordIncidentRequest{Id: "INC-1", Service: "ghost", OpenedAt: ts(ago(1, 0))})
	requireCode(t, codes.NotFound, err)
	_, err = h.server.ResolveIncident(ctx, &cairnv1.ResolveIncidentRequest{Name: "incidents/INC-404", ResolvedAt: ts(ago(0, 0))})
	requireCode(t, codes.NotFound, err)
	require.Equal(t, "INCIDENT_NOT_FOUND", errorReason(t, err))
	_, err = h.server.GetServiceDora(ctx, &cairnv1.GetServiceDoraRequest{Name: "services/ghost"})
	requireCode(t, codes.NotFound, err)
	_, err = h.server.GetTeamDora(ctx, &cairnv1.GetTeamDoraRequest{Name: "teams/ghosts"})
	requireCode(t, codes.NotFound, err)
	require.Equal(t, "TEAM_NOT_FOUND", errorReason(t, err))
}

func TestDevelopersRecordEventsOfTheirOwnTeamsOnly(t *testing.T) {
	h := newHandlerTest(t)
	checkout := asDeveloperOf("checkout")

	req := deploymentRequest()
	req.Service = "search"
	_, err := h.server.RecordDeployment(checkout, req)
	requireCode(t, codes.PermissionDenied, err)
	_, err = h.server.RecordIncident(checkout, &cairnv1.RecordIncidentRequest{Id: "SRCH-1", Service: "search", OpenedAt: ts(ago(1, 0))})
	requireCode(t, codes.PermissionDenied, err)
	_, err = h.server.RecordSupportTicket(checkout, &cairnv1.RecordSupportTicketRequest{
		Id: "SUP-1", Category: "ci", Team: "group:default/search", OpenedAt: ts(ago(1, 0)),
	})
	requireCode(t, codes.PermissionDenied, err)

	_, err = h.server.RecordIncident(asDeveloperOf("search"), &cairnv1.RecordIncidentRequest{Id: "SRCH-1", Service: "search", OpenedAt: ts(ago(1, 0))})
	require.NoError(t, err)
	_, err = h.server.ResolveIncident(checkout, &cairnv1.ResolveIncidentRequest{Name: "services/search/incidents/SRCH-1", ResolvedAt: ts(ago(0, 0))})
	requireCode(t, codes.PermissionDenied, err)
	_, err = h.server.ResolveIncident(checkout, &cairnv1.ResolveIncidentRequest{Name: "incidents/SRCH-1", ResolvedAt: ts(ago(0, 0))})
	requireCode(t, codes.NotFound, err) // another team's incident is not revealed by its short name
	incident, err := h.store.GetIncident(t.Context(), "search", "SRCH-1")
	require.NoError(t, err)
	require.True(t, incident.ResolvedAt.IsZero(), "a refused resolution changes nothing")

	// A ticket's team may be an entity reference; it is kept as the
	// team's name.
	resp, err := h.server.RecordSupportTicket(checkout, &cairnv1.RecordSupportTicketRequest{
		Id: "SUP-2", Category: "ci", Team: "group:default/checkout", OpenedAt: ts(ago(1, 0)),
	})
	require.NoError(t, err)
	require.True(t, resp.GetCreated())
	resp, err = h.server.RecordSupportTicket(checkout, &cairnv1.RecordSupportTicketRequest{
		Id: "SUP-3", Category: "access", OpenedAt: ts(ago(1, 0)),
	})
	require.NoError(t, err, "a ticket of no team")
	require.True(t, resp.GetCreated())
	counts, err := h.store.CountSupportTickets(t.Context(), ago(2, 0), now)
	require.NoError(t, err)
	require.Equal(t, []store.TicketCount{{Category: "access", Count: 1}, {Category: "ci", Count: 1}}, counts)
}

func TestResolveIncidentResolvesOnceAtOneTime(t *testing.T) {
	h := newHandlerTest(t)
	ctx := asDeveloperOf("checkout")
	_, err := h.server.RecordIncident(ctx, &cairnv1.RecordIncidentRequest{Id: "INC-1", Service: "orders", OpenedAt: ts(ago(1, 0))})
	require.NoError(t, err)

	_, err = h.server.ResolveIncident(ctx, &cairnv1.ResolveIncidentRequest{Name: "incidents/INC-1", ResolvedAt: ts(ago(2, 0))})
	require.Equal(t, []string{"resolved_at"}, violatedFields(t, err), "resolved before it opened")

	resolve := &cairnv1.ResolveIncidentRequest{Name: "incidents/INC-1", ResolvedAt: ts(ago(1, 90*time.Minute))}
	_, err = h.server.ResolveIncident(ctx, resolve)
	require.NoError(t, err)
	_, err = h.server.ResolveIncident(ctx, resolve)
	require.NoError(t, err, "the same resolution again")

	_, err = h.server.ResolveIncident(ctx, &cairnv1.ResolveIncidentRequest{Name: "incidents/INC-1", ResolvedAt: ts(ago(1, 2*time.Hour))})
	requireCode(t, codes.FailedPrecondition, err)
	require.Equal(t, "INCIDENT_ALREADY_RESOLVED", errorReason(t, err))

	dora, err := h.server.GetServiceDora(ctx, &cairnv1.GetServiceDoraRequest{Name: "services/orders", Window: "7d"})
	require.NoError(t, err)
	require.Equal(t, (90 * time.Minute).Seconds(), dora.GetDora().GetTimeToRestore().GetValue())
	require.Equal(t, int64(1), dora.GetDora().GetTimeToRestore().GetSampleCount())
}

func TestDoraResponsesCarryTheWindowAndEveryMetric(t *testing.T) {
	h := newHandlerTest(t)
	ctx := asAdmin()
	_, err := h.server.RecordDeployment(ctx, deploymentRequest())
	require.NoError(t, err)

	service, err := h.server.GetServiceDora(ctx, &cairnv1.GetServiceDoraRequest{Name: "services/orders", Window: "7d"})
	require.NoError(t, err)
	team, err := h.server.GetTeamDora(ctx, &cairnv1.GetTeamDoraRequest{Name: "teams/checkout", Window: "7d"})
	require.NoError(t, err)
	org, err := h.server.GetOrganizationDora(ctx, &cairnv1.GetOrganizationDoraRequest{Window: "7d"})
	require.NoError(t, err)
	for _, dora := range []*cairnv1.DoraMetrics{service.GetDora(), team.GetDora(), org.GetDora()} {
		require.Equal(t, "7d", dora.GetWindow())
		require.Equal(t, ago(7, 0), dora.GetWindowStart().AsTime())
		require.Equal(t, now, dora.GetWindowEnd().AsTime())
		// One deployment in 7 days is weekly: high. The window's days fall
		// in two calendar weeks, the second deployed: monthly.
		requireProto(t, &cairnv1.DoraMetric{
			Value: 1.0 / 7, Unit: UnitDeploysPerDay, Band: BandHigh, FrequencyClass: ClassMonthly, SampleCount: 1,
		}, dora.GetDeploymentFrequency())
		// Commits 2h and 24h before: a median of 13h.
		requireProto(t, &cairnv1.DoraMetric{Value: 13 * 3600, Unit: UnitSeconds, Band: BandElite, SampleCount: 2}, dora.GetLeadTimeForChanges())
		requireProto(t, &cairnv1.DoraMetric{Value: 0, Unit: UnitRatio, Band: BandElite, SampleCount: 1}, dora.GetChangeFailureRate())
		requireProto(t, &cairnv1.DoraMetric{Unit: UnitSeconds}, dora.GetTimeToRestore())
	}

	_, err = h.server.GetOrganizationDora(ctx, &cairnv1.GetOrganizationDoraRequest{Window: "2w"})
	require.Equal(t, []string{"window"}, violatedFields(t, err))
}

func requireProto(t *testing.T, want, got proto.Message) {
	t.Helper()
	require.True(t, proto.Equal(want, got), "want %v\ngot  %v", want, got)
}

func TestIncidentNamesAreFullOrShort(t *testing.T) {
	for _, tc := range []struct {
		name, service, id string
		ok                bool
	}{
		{"services/orders/incidents/INC-1", "orders", "INC-1", true},
		{"incidents/INC-1", "", "INC-1", true},
		{"services/orders/INC-1", "", "", false},
		{"services//incidents/INC-1", "", "", false},
		{"services/a/b/incidents/INC-1", "", "", false},
		{"orders/incidents/INC-1", "", "", false},
	} {
		service, id, ok := parseIncidentName(tc.name)
		require.Equal(t, tc.ok, ok, tc.name)
		if ok {
			require.Equal(t, []string{tc.service, tc.id}, []string{service, id}, tc.name)
		}
	}
}
