package cli

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// fakeCosts is a CostService answering ListCostRegressions in pages of
// one, recording the requests.
type fakeCosts struct {
	cairnv1.UnimplementedCostServiceServer
	mu       sync.Mutex
	requests []*cairnv1.ListCostRegressionsRequest
}

func (f *fakeCosts) ListCostRegressions(_ context.Context, req *cairnv1.ListCostRegressionsRequest) (*cairnv1.ListCostRegressionsResponse, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	growth, monthly, before, after := 30.0, 90.0, 10.0, 13.0
	resp := &cairnv1.ListCostRegressionsResponse{Currency: "USD", WindowDays: 7, ThresholdPercent: 15, FloorMonthly: 10}
	if req.GetPageToken() == "" {
		resp.Changes = []*cairnv1.CostChange{{
			ServiceName: "orders-service", Kind: "deployment", Environment: "production", Revision: "v1.6.0",
			ChangeTime: timestamppb.New(time.Date(2031, 3, 18, 11, 0, 0, 0, time.UTC)), Verdict: "pending",
			PendingReason: "AFTER_WINDOW_OPEN",
		}}
		resp.NextPageToken = "p2"
		return resp, nil
	}
	resp.Changes = []*cairnv1.CostChange{{
		ServiceName: "orders-service", Kind: "deployment", Environment: "production", Revision: "v1.5.0",
		ChangeTime: timestamppb.New(time.Date(2031, 3, 14, 15, 0, 0, 0, time.UTC)), Verdict: "regression",
		BeforeDailyCost: &before, AfterDailyCost: &after, GrowthPercent: &growth, MonthlyChange: &monthly,
	}}
	return resp, nil
}

func startCostFake(t *testing.T, f *fakeCosts) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	cairnv1.RegisterCostServiceServer(srv, f)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

func TestCostRegressionsListsEveryPageAsATable(t *testing.T) {
	f := &fakeCosts{}
	env := map[string]string{"CAIRN_SERVER": startCostFake(t, f)}
	r := run(context.Background(), env, "cost", "regressions", "orders-service")
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, `DATE        SERVICE         KIND        REVISION  VERDICT                      GROWTH  PER MONTH
2031-03-18  orders-service  deployment  v1.6.0    pending (AFTER_WINDOW_OPEN)  -       -
2031-03-14  orders-service  deployment  v1.5.0    regression                   +30.0%  +90.00 USD

7 days each side of a change; a regression grows more than 15% and more than 10.00 USD a month
`, r.stdout)
	require.Len(t, f.requests, 2)
	require.Equal(t, "services/orders-service", f.requests[0].GetParent())
	require.Equal(t, "p2", f.requests[1].GetPageToken())
}

func TestCostRegressionsOfATeam(t *testing.T) {
	f := &fakeCosts{}
	env := map[string]string{"CAIRN_SERVER": startCostFake(t, f)}
	r := run(context.Background(), env, "cost", "regressions", "--team", "team-orders", "--regressions-only")
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, "teams/team-orders", f.requests[0].GetParent())
	require.True(t, f.requests[0].GetRegressionsOnly())
}

func TestCostRegressionsWantsAServiceOrATeam(t *testing.T) {
	for _, args := range [][]string{
		{"cost", "regressions"},
		{"cost", "regressions", "orders-service", "--team", "team-orders"},
	} {
		r := run(context.Background(), map[string]string{"CAIRN_SERVER": "127.0.0.1:1"}, args...)
		require.Equal(t, 2, ExitCode(r.err), "%v: %v", args, r.err)
	}
}
