package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
)

// changeFailureRate is orders' 30-day change failure rate and its sample
// count.
func changeFailureRate(t *testing.T, s *Service) (float64, int64) {
	t.Helper()
	dora, err := s.ServiceDora(t.Context(), "orders", "30d")
	require.NoError(t, err)
	return dora.ChangeFailureRate.Value, dora.ChangeFailureRate.Samples
}

// The cases, on both engines: an incident naming no revision opened
// 3 hours after a production deployment is charged to it, one opened 30
// hours after is not; a deployment recorded after the incident takes the
// charge when it is the later one in the window; a correction moves it, and
// the change failure rate follows each time.
func TestIncidentsAreChargedByTimeAndTheChangeFailureRateFollows(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			st := engine.open(t)
			addService(t, st, "orders", "checkout")
			addService(t, st, "search", "search")
			s, _ := newService(st)
			server := NewServer(s, NewPlatform(st, nil))
			ctx := t.Context()
			record := func(d store.Deployment) {
				t.Helper()
				_, err := s.RecordDeployment(ctx, d)
				require.NoError(t, err)
			}
			open := func(id string, at time.Time) {
				t.Helper()
				_, err := s.RecordIncident(ctx, store.Incident{ID: id, Service: "orders", OpenedAt: at})
				require.NoError(t, err)
			}

			// Four production deployments; INC-1 opens 3 hours after v1.
			record(prodDeploy("orders", "v1", ago(10, 0)))
			record(prodDeploy("orders", "v2", ago(5, 0)))
			record(prodDeploy("orders", "v3", ago(3, 0)))
			record(withEnvironment(prodDeploy("orders", "v4", ago(2, 0)), "staging"))
			open("INC-1", ago(10, 3*time.Hour))
			// INC-2 opens 30 hours after v2, v2 being the last before it.
			open("INC-2", ago(5, 30*time.Hour))
			rate, samples := changeFailureRate(t, s)
			require.Equal(t, int64(3), samples)
			require.InDelta(t, 1.0/3, rate, 1e-9, "v1 of three")

			// v0 finished 2 hours after v1 and before INC-1 opened, recorded
			// now: the later deployment in the window takes the charge, and
			// v1 causes nothing any more.
			record(prodDeploy("orders", "v0", ago(10, 2*time.Hour)))
			resp, err := server.ListIncidents(asAdmin(), &cairnv1.ListIncidentsRequest{Parent: "services/orders"})
			require.NoError(t, err)
			require.Len(t, resp.Incidents, 2)
			inc2, inc1 := resp.Incidents[0], resp.Incidents[1]
			require.Equal(t, "INC-1", inc1.GetId())
			require.Equal(t, "inferred", inc1.GetLink())
			require.Equal(t, "v0", inc1.GetDeployment().GetRevision())
			require.Equal(t, "production", inc1.GetDeployment().GetEnvironment())
			require.Equal(t, ago(10, 2*time.Hour), inc1.GetDeployment().GetFinishedAt().AsTime())
			require.Equal(t, "", inc2.GetLink(), "30 hours is beyond the default 24-hour window")
			require.Nil(t, inc2.GetDeployment())
			rate, samples = changeFailureRate(t, s)
			require.Equal(t, int64(4), samples)
			require.InDelta(t, 1.0/4, rate, 1e-9, "v0 of four")

			// A developer of the team charges INC-2 to v2: two of four.
			linked, err := server.LinkIncident(asDeveloperOf("checkout"), &cairnv1.LinkIncidentRequest{
				Name: "services/orders/incidents/INC-2", Revision: "v2",
			})
			require.NoError(t, err)
			require.Equal(t, "corrected", linked.GetIncident().GetLink())
			require.Equal(t, "v2", linked.GetIncident().GetDeployment().GetRevision())
			rate, _ = changeFailureRate(t, s)
			require.InDelta(t, 2.0/4, rate, 1e-9)
			// ... and INC-1 to none: one of four.
			_, err = server.LinkIncident(asDeveloperOf("checkout"), &cairnv1.LinkIncidentRequest{Name: "services/orders/incidents/INC-1"})
			require.NoError(t, err)
			rate, _ = changeFailureRate(t, s)
			require.InDelta(t, 1.0/4, rate, 1e-9)

			// Another team's developer is refused, before the incident is
			// looked up; a revision only in staging is a refused
			// precondition; neither changes anything.
			_, err = server.LinkIncident(asDeveloperOf("search"), &cairnv1.LinkIncidentRequest{Name: "services/orders/incidents/INC-2"})
			requireCode(t, codes.PermissionDenied, err)
			_, err = server.LinkIncident(asDeveloperOf("search"), &cairnv1.LinkIncidentRequest{Name: "services/orders/incidents/INC-404"})
			requireCode(t, codes.PermissionDenied, err)
			_, err = server.LinkIncident(asDeveloperOf("checkout"), &cairnv1.LinkIncidentRequest{Name: "services/orders/incidents/INC-2", Revision: "v4"})
			requireCode(t, codes.FailedPrecondition, err)
			_, err = server.LinkIncident(asDeveloperOf("checkout"), &cairnv1.LinkIncidentRequest{Name: "services/orders/incidents/INC-404", Revision: "v2"})
			requireCode(t, codes.NotFound, err)
			rate, _ = changeFailureRate(t, s)
			require.InDelta(t, 1.0/4, rate, 1e-9)
		})
	}
}

// The window is a setting: at 36 hours, an incident 30 hours after a
// deployment is charged to it.
func TestTheIncidentLinkWindowIsASetting(t *testing.T) {
	st := openSQLite(t)
	addService(t, st, "orders", "checkout")
	s := New(st, NewPrometheus(prometheus.NewRegistry()), DefaultEventWindow, entityref.Teams{}, []string{"production"}, WithIncidentLinkWindow(36*time.Hour))
	s.now = func() time.Time { return now }
	_, err := s.RecordDeployment(t.Context(), prodDeploy("orders", "v1", ago(5, 0)))
	require.NoError(t, err)
	_, err = s.RecordIncident(t.Context(), store.Incident{ID: "INC-1", Service: "orders", OpenedAt: ago(5, 30*time.Hour)})
	require.NoError(t, err)
	rate, _ := changeFailureRate(t, s)
	require.InDelta(t, 1.0, rate, 1e-9)
	require.Error(t, ValidateIncidentLinkWindow(0))
	require.Error(t, ValidateIncidentLinkWindow(32*24*time.Hour))
	require.NoError(t, ValidateIncidentLinkWindow(DefaultIncidentLinkWindow))
}

func TestListDeploymentsPagesFiltersAndShowsCommitsWithLeadTimes(t *testing.T) {
	h := newHandlerTest(t)
	ctx := context.Background()
	s := h.server.metrics
	for i := range 5 {
		_, err := s.RecordDeployment(ctx, prodDeploy("orders", fmt.Sprintf("v%d", i), ago(5-i, 0), time.Hour, 3*time.Hour))
		require.NoError(t, err)
	}
	_, err := s.RecordDeployment(ctx, withStatus(prodDeploy("orders", "bad", ago(0, -time.Hour)), store.DeploymentFailed))
	require.NoError(t, err)
	_, err = s.RecordDeployment(ctx, withEnvironment(prodDeploy("search", "s1", ago(1, 0)), "staging"))
	require.NoError(t, err)
	_, err = s.RecordIncident(ctx, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: ago(1, time.Hour)})
	require.NoError(t, err)

	// A developer of another team reads them, as they read the DORA
	// figures; two a page, newest first.
	reader := asDeveloperOf("search")
	var revisions []string
	req := &cairnv1.ListDeploymentsRequest{Parent: "services/orders", PageSize: 2}
	for page := 0; ; page++ {
		require.Less(t, page, 5)
		resp, err := h.server.ListDeployments(reader, req)
		require.NoError(t, err)
		for _, d := range resp.GetDeployments() {
			revisions = append(revisions, d.GetRevision())
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	require.Equal(t, []string{"bad", "v4", "v3", "v2", "v1", "v0"}, revisions)

	resp, err := h.server.ListDeployments(reader, &cairnv1.ListDeploymentsRequest{
		Parent: "services/orders", Status: "succeeded", FinishedAfter: ts(ago(1, -time.Minute)),
	})
	require.NoError(t, err)
	require.Len(t, resp.GetDeployments(), 1)
	v4 := resp.GetDeployments()[0]
	require.Equal(t, "v4", v4.GetRevision())
	require.True(t, v4.GetProduction())
	require.Regexp(t, `^services/orders/deployments/[0-9]+$`, v4.GetName())
	require.Len(t, v4.GetCommits(), 2)
	require.Equal(t, 3*time.Hour, v4.GetCommits()[0].GetLeadTime().AsDuration(), "oldest commit first")
	require.Equal(t, time.Hour, v4.GetCommits()[1].GetLeadTime().AsDuration())
	require.Len(t, v4.GetIncidents(), 1)
	require.Equal(t, "services/orders/incidents/INC-1", v4.GetIncidents()[0].GetName())
	require.Equal(t, "inferred", v4.GetIncidents()[0].GetLink())

	// A team's services together; an environment filter.
	resp, err = h.server.ListDeployments(reader, &cairnv1.ListDeploymentsRequest{Parent: "teams/search", Environment: "staging"})
	require.NoError(t, err)
	require.Len(t, resp.GetDeployments(), 1)
	require.False(t, resp.GetDeployments()[0].GetProduction())

	// A token is refused with other filters; a range longer than 366 days,
	// or empty, is bad input; an unknown service or team is not found.
	first, err := h.server.ListDeployments(reader, &cairnv1.ListDeploymentsRequest{Parent: "services/orders", PageSize: 1})
	require.NoError(t, err)
	_, err = h.server.ListDeployments(reader, &cairnv1.ListDeploymentsRequest{Parent: "services/orders", PageSize: 1, Status: "failed", PageToken: first.GetNextPageToken()})
	requireCode(t, codes.InvalidArgument, err)
	_, err = h.server.ListDeployments(reader, &cairnv1.ListDeploymentsRequest{Parent: "services/orders", FinishedAfter: ts(ago(367, 0))})
	requireCode(t, codes.InvalidArgument, err)
	_, err = h.server.ListDeployments(reader, &cairnv1.ListDeploymentsRequest{Parent: "services/orders", FinishedAfter: ts(ago(1, 0)), FinishedBefore: ts(ago(2, 0))})
	requireCode(t, codes.InvalidArgument, err)
	_, err = h.server.ListDeployments(reader, &cairnv1.ListDeploymentsRequest{Parent: "services/nothing"})
	requireCode(t, codes.NotFound, err)
	_, err = h.server.ListDeployments(reader, &cairnv1.ListDeploymentsRequest{Parent: "teams/nobody"})
	requireCode(t, codes.NotFound, err)
}

// A page holds at most 100 deployments, whatever is asked: each carries
// its commits.
func TestListDeploymentsPageSizeIsBounded(t *testing.T) {
	h := newHandlerTest(t)
	for i := range 101 {
		_, err := h.server.metrics.RecordDeployment(context.Background(), prodDeploy("orders", fmt.Sprintf("v%d", i), ago(1, time.Duration(i)*time.Minute)))
		require.NoError(t, err)
	}
	resp, err := h.server.ListDeployments(asAdmin(), &cairnv1.ListDeploymentsRequest{Parent: "services/orders", PageSize: 1000})
	require.NoError(t, err)
	require.Len(t, resp.GetDeployments(), 100)
	require.NotEmpty(t, resp.GetNextPageToken())
}

func TestListIncidentsFiltersOnStateAndPages(t *testing.T) {
	h := newHandlerTest(t)
	ctx := context.Background()
	s := h.server.metrics
	_, err := s.RecordDeployment(ctx, prodDeploy("orders", "v1", ago(3, 0)))
	require.NoError(t, err)
	for i, resolved := range []time.Time{ago(3, 2*time.Hour), {}, ago(1, time.Hour)} {
		_, err := s.RecordIncident(ctx, store.Incident{
			ID: fmt.Sprintf("INC-%d", i+1), Service: "orders", OpenedAt: ago(3-i, time.Hour), ResolvedAt: resolved, CauseRevision: map[bool]string{true: "v1"}[i == 1],
		})
		require.NoError(t, err)
	}
	_, err = s.RecordIncident(ctx, store.Incident{ID: "SRCH-1", Service: "search", OpenedAt: ago(1, 0)})
	require.NoError(t, err)

	names := func(req *cairnv1.ListIncidentsRequest) []string {
		t.Helper()
		var got []string
		for {
			resp, err := h.server.ListIncidents(asDeveloperOf("search"), req)
			require.NoError(t, err)
			for _, i := range resp.GetIncidents() {
				got = append(got, i.GetId()+":"+i.GetLink())
			}
			if resp.GetNextPageToken() == "" {
				return got
			}
			req.PageToken = resp.GetNextPageToken()
		}
	}
	require.Equal(t, []string{"INC-3:", "INC-2:named", "INC-1:inferred"}, names(&cairnv1.ListIncidentsRequest{Parent: "services/orders", PageSize: 1}))
	require.Equal(t, []string{"INC-2:named"}, names(&cairnv1.ListIncidentsRequest{Parent: "services/orders", State: "open"}))
	require.Equal(t, []string{"INC-3:", "INC-1:inferred"}, names(&cairnv1.ListIncidentsRequest{Parent: "services/orders", State: "resolved"}))
	require.Equal(t, []string{"INC-2:named"}, names(&cairnv1.ListIncidentsRequest{
		Parent: "services/orders", OpenedAfter: ts(ago(2, 0)), OpenedBefore: ts(ago(1, 0)),
	}))
	require.Equal(t, []string{"SRCH-1:"}, names(&cairnv1.ListIncidentsRequest{Parent: "teams/search"}))
}
