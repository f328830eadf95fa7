package cli

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// fakeMetrics is a MetricsService that records what it is sent and
// answers the drill-down in pages of one.
type fakeMetrics struct {
	cairnv1.UnimplementedMetricsServiceServer
	mu       sync.Mutex
	requests []proto.Message
}

func (f *fakeMetrics) record(req proto.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
}

func (f *fakeMetrics) calls() []proto.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

var finished = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func (f *fakeMetrics) ListDeployments(_ context.Context, req *cairnv1.ListDeploymentsRequest) (*cairnv1.ListDeploymentsResponse, error) {
	f.record(req)
	if req.GetPageToken() == "" {
		return &cairnv1.ListDeploymentsResponse{Deployments: []*cairnv1.DeploymentRecord{{
			Name: "services/orders/deployments/2", Service: "orders", Environment: "production", Revision: "v2",
			Status: "succeeded", FinishedAt: timestamppb.New(finished), Production: true,
			Commits: []*cairnv1.DeployedCommit{
				{Sha: "a1", LeadTime: durationpb.New(3 * time.Hour)}, {Sha: "b2", LeadTime: durationpb.New(time.Hour)},
			},
			Incidents: []*cairnv1.IncidentRecord{{Id: "INC-1", Link: "inferred"}},
		}}, NextPageToken: "p2"}, nil
	}
	return &cairnv1.ListDeploymentsResponse{Deployments: []*cairnv1.DeploymentRecord{{
		Name: "services/orders/deployments/1", Service: "orders", Environment: "staging", Revision: "v1",
		Status: "failed", FinishedAt: timestamppb.New(finished.Add(-time.Hour)),
	}}}, nil
}

func (f *fakeMetrics) ListIncidents(_ context.Context, req *cairnv1.ListIncidentsRequest) (*cairnv1.ListIncidentsResponse, error) {
	f.record(req)
	return &cairnv1.ListIncidentsResponse{Incidents: []*cairnv1.IncidentRecord{
		{
			Name: "services/orders/incidents/INC-1", Id: "INC-1", OpenedAt: timestamppb.New(finished.Add(3 * time.Hour)), Link: "inferred",
			Deployment: &cairnv1.ChargedDeployment{Revision: "v2", Environment: "production", FinishedAt: timestamppb.New(finished)},
		},
		{Name: "services/orders/incidents/INC-2", Id: "INC-2", OpenedAt: timestamppb.New(finished.Add(30 * time.Hour)),
			ResolvedAt: timestamppb.New(finished.Add(31 * time.Hour))},
	}}, nil
}

func (f *fakeMetrics) LinkIncident(_ context.Context, req *cairnv1.LinkIncidentRequest) (*cairnv1.LinkIncidentResponse, error) {
	f.record(req)
	incident := &cairnv1.IncidentRecord{Name: req.GetName(), OpenedAt: timestamppb.New(finished.Add(time.Hour)), Link: "corrected"}
	if req.GetRevision() != "" {
		incident.Deployment = &cairnv1.ChargedDeployment{Revision: req.GetRevision(), Environment: "production", FinishedAt: timestamppb.New(finished)}
	}
	return &cairnv1.LinkIncidentResponse{Incident: incident}, nil
}

func startFakeMetrics(t *testing.T, f *fakeMetrics) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	cairnv1.RegisterMetricsServiceServer(srv, f)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

func TestDeploymentListReadsEveryPageAndShowsLeadTimesAndIncidents(t *testing.T) {
	f := &fakeMetrics{}
	env := map[string]string{"CAIRN_SERVER": startFakeMetrics(t, f)}
	r := run(context.Background(), env, "deployment", "list", "orders", "--environment", "production", "--status", "succeeded",
		"--since", "2026-11-01T00:00:00Z", "--until", "2026-11-21T00:00:00Z")
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, ""+
		"FINISHED              SERVICE  ENVIRONMENT  REVISION  STATUS     PRODUCTION  LEAD TIMES      INCIDENTS\n"+
		"2026-11-20T10:00:00Z  orders   production   v2        succeeded  yes         3h0m0s, 1h0m0s  INC-1 (inferred)\n"+
		"2026-11-20T09:00:00Z  orders   staging      v1        failed     no          none            none\n", r.stdout)
	requests := f.calls()
	require.Len(t, requests, 2, "both pages")
	require.Empty(t, cmpProto(&cairnv1.ListDeploymentsRequest{
		Parent: "services/orders", Environment: "production", Status: "succeeded", PageSize: 50,
		FinishedAfter:  timestamppb.New(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)),
		FinishedBefore: timestamppb.New(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)),
	}, requests[0]))
	require.Equal(t, "p2", requests[1].(*cairnv1.ListDeploymentsRequest).GetPageToken())

	// --limit stops reading pages once it has its rows.
	r = run(context.Background(), env, "deployment", "list", "--team", "team-orders", "--limit", "1")
	require.NoError(t, r.err, r.stderr)
	require.Len(t, f.calls(), 3)
	require.Equal(t, "teams/team-orders", f.calls()[2].(*cairnv1.ListDeploymentsRequest).GetParent())
	require.Equal(t, int32(1), f.calls()[2].(*cairnv1.ListDeploymentsRequest).GetPageSize())
}

func TestIncidentListShowsTheChargeAndHowItWasMade(t *testing.T) {
	f := &fakeMetrics{}
	env := map[string]string{"CAIRN_SERVER": startFakeMetrics(t, f)}
	r := run(context.Background(), env, "incident", "list", "--team", "teams/team-orders", "--state", "open")
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, ""+
		"NAME                             OPENED                RESOLVED              LINK      CHARGED TO\n"+
		"services/orders/incidents/INC-1  2026-11-20T13:00:00Z  -                     inferred  v2 in production, finished 2026-11-20T10:00:00Z (3h0m0s before)\n"+
		"services/orders/incidents/INC-2  2026-11-21T16:00:00Z  2026-11-21T17:00:00Z  -         -\n", r.stdout)
	require.Empty(t, cmpProto(&cairnv1.ListIncidentsRequest{Parent: "teams/team-orders", State: "open", PageSize: 50}, f.calls()[0]))
}

func TestIncidentLinkChargesARevisionOrNone(t *testing.T) {
	f := &fakeMetrics{}
	env := map[string]string{"CAIRN_SERVER": startFakeMetrics(t, f)}
	ctx := context.Background()
	r := run(ctx, env, "incident", "link", "orders", "INC-1", "--revision", "v1.4.0")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "corrected  v1.4.0 in production")
	require.NoError(t, run(ctx, env, "incident", "link", "orders", "services/orders/incidents/INC-2", "--none").err)
	requests := f.calls()
	require.Empty(t, cmpProto(&cairnv1.LinkIncidentRequest{Name: "services/orders/incidents/INC-1", Revision: "v1.4.0"}, requests[0]))
	require.Empty(t, cmpProto(&cairnv1.LinkIncidentRequest{Name: "services/orders/incidents/INC-2"}, requests[1]))
}

func TestDrillDownUsageErrorsCallNothing(t *testing.T) {
	f := &fakeMetrics{}
	env := map[string]string{"CAIRN_SERVER": startFakeMetrics(t, f)}
	for _, args := range [][]string{
		{"deployment", "list"},
		{"deployment", "list", "orders", "--team", "team-orders"},
		{"deployment", "list", "orders", "--since", "yesterday"},
		{"deployment", "list", "orders", "--limit", "0"},
		{"incident", "list", "orders", "search"},
		{"incident", "link", "orders", "INC-1"},
		{"incident", "link", "orders", "INC-1", "--revision", "v1", "--none"},
	} {
		r := run(context.Background(), env, args...)
		require.Error(t, r.err, "%v", args)
		require.Equal(t, 2, ExitCode(r.err), "%v: %v", args, r.err)
	}
	require.Empty(t, f.calls())
}
