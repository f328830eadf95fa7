package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// fakeCairn is a ProvisioningService that records what it is sent.
type fakeCairn struct {
	cairnv1.UnimplementedProvisioningServiceServer
	mu       sync.Mutex
	requests []proto.Message
	auth     []string
	err      error                               // returned by unary calls when set
	statuses []*cairnv1.GetServiceStatusResponse // what WatchServiceStatus sends
	hold     bool                                // keep the watch open after sending
}

func (f *fakeCairn) record(ctx context.Context, req proto.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	md, _ := metadata.FromIncomingContext(ctx)
	f.auth = append(f.auth, md.Get("authorization")...)
	return f.err
}

func (f *fakeCairn) calls() ([]proto.Message, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.auth
}

func (f *fakeCairn) CreateService(ctx context.Context, req *cairnv1.CreateServiceRequest) (*cairnv1.CreateServiceResponse, error) {
	if err := f.record(ctx, req); err != nil {
		return nil, err
	}
	return &cairnv1.CreateServiceResponse{Service: req.GetName(), Status: "provisioning", Environments: req.GetEnvironments()}, nil
}

func (f *fakeCairn) GetServiceStatus(ctx context.Context, req *cairnv1.GetServiceStatusRequest) (*cairnv1.GetServiceStatusResponse, error) {
	if err := f.record(ctx, req); err != nil {
		return nil, err
	}
	return f.statuses[0], nil
}

func (f *fakeCairn) WatchServiceStatus(req *cairnv1.WatchServiceStatusRequest, stream cairnv1.ProvisioningService_WatchServiceStatusServer) error {
	if err := f.record(stream.Context(), req); err != nil {
		return err
	}
	for _, s := range f.statuses {
		if err := stream.Send(&cairnv1.WatchServiceStatusResponse{Status: s}); err != nil {
			return err
		}
	}
	if f.hold {
		<-stream.Context().Done()
	}
	return nil
}

func (f *fakeCairn) CreatePromotion(ctx context.Context, req *cairnv1.CreatePromotionRequest) (*cairnv1.CreatePromotionResponse, error) {
	if err := f.record(ctx, req); err != nil {
		return nil, err
	}
	return &cairnv1.CreatePromotionResponse{Promotion: &cairnv1.Promotion{
		Name: req.GetParent() + "/promotions/7", Revision: req.GetPromotion().GetRevision(), State: "pending", Requester: "ci"}}, nil
}

func (f *fakeCairn) ApprovePromotion(ctx context.Context, req *cairnv1.ApprovePromotionRequest) (*cairnv1.ApprovePromotionResponse, error) {
	if err := f.record(ctx, req); err != nil {
		return nil, err
	}
	return &cairnv1.ApprovePromotionResponse{Promotion: &cairnv1.Promotion{Name: req.GetName(), State: "approved"}}, nil
}

func (f *fakeCairn) DenyPromotion(ctx context.Context, req *cairnv1.DenyPromotionRequest) (*cairnv1.DenyPromotionResponse, error) {
	if err := f.record(ctx, req); err != nil {
		return nil, err
	}
	return &cairnv1.DenyPromotionResponse{Promotion: &cairnv1.Promotion{Name: req.GetName(), State: "denied"}}, nil
}

// ListPromotions answers in pages of one, to show that list reads them all.
func (f *fakeCairn) ListPromotions(ctx context.Context, req *cairnv1.ListPromotionsRequest) (*cairnv1.ListPromotionsResponse, error) {
	if err := f.record(ctx, req); err != nil {
		return nil, err
	}
	if req.GetPageToken() == "" {
		return &cairnv1.ListPromotionsResponse{Promotions: []*cairnv1.Promotion{{Name: req.GetParent() + "/promotions/2"}}, NextPageToken: "p2"}, nil
	}
	return &cairnv1.ListPromotionsResponse{Promotions: []*cairnv1.Promotion{{Name: req.GetParent() + "/promotions/1"}}}, nil
}

// startFake serves f on a free port and returns its address.
func startFake(t *testing.T, f *fakeCairn) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	cairnv1.RegisterProvisioningServiceServer(srv, f)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

type result struct {
	stdout, stderr string
	err            error
}

// run runs the CLI with env as its whole environment.
func run(ctx context.Context, env map[string]string, args ...string) result {
	var stdout, stderr bytes.Buffer
	err := Run(ctx, args, &stdout, &stderr, func(k string) string { return env[k] })
	return result{stdout.String(), stderr.String(), err}
}

func TestCreateSendsItsFlagsAndTheTokenFromTheEnvironment(t *testing.T) {
	f := &fakeCairn{}
	env := map[string]string{"CAIRN_SERVER": startFake(t, f), "CAIRN_TOKEN": " env-token\n"}
	r := run(context.Background(), env, "service", "create", "--owner", "team-orders", "orders",
		"--template", "node-microservice", "--database", "postgresql", "--database-size", "small", "--bucket",
		"--env", "staging", "--env", "production", "--repository", "https://git.example/orders.git",
		"--replicas", "3", "--request-id", "task-1", "--validate-only")
	require.NoError(t, r.err, r.stderr)

	requests, auth := f.calls()
	require.Empty(t, cmpProto(&cairnv1.CreateServiceRequest{
		Name: "orders", Owner: "team-orders", Template: "node-microservice", Database: "postgresql", DatabaseSize: "small",
		Bucket: true, Environments: []string{"staging", "production"}, RepositoryUrl: "https://git.example/orders.git",
		ReplicaCount: 3, RequestId: "task-1", ValidateOnly: true,
	}, requests[0]))
	require.Equal(t, []string{"Bearer env-token"}, auth)
	require.Equal(t, `service:       orders
status:        provisioning
resources:     none
environments:  staging, production
repository:    -
`, r.stdout)
}

func TestTheTokenFlagBeatsTheEnvironment(t *testing.T) {
	f := &fakeCairn{statuses: []*cairnv1.GetServiceStatusResponse{{Service: "orders"}}}
	env := map[string]string{"CAIRN_TOKEN": "env-token"}
	r := run(context.Background(), env, "service", "status", "services/orders", "--server", startFake(t, f), "--token", "flag-token")
	require.NoError(t, r.err)
	requests, auth := f.calls()
	require.Equal(t, "services/orders", requests[0].(*cairnv1.GetServiceStatusRequest).GetName())
	require.Equal(t, []string{"Bearer flag-token"}, auth)
}

func TestPromotionCommandsNameWhatTheyActOn(t *testing.T) {
	f := &fakeCairn{}
	env := map[string]string{"CAIRN_SERVER": startFake(t, f)}
	ctx := context.Background()

	r := run(ctx, env, "promotion", "request", "orders", "--revision", "v1.2.3", "--request-id", "r-1")
	require.NoError(t, r.err)
	require.Equal(t, "NAME                          ENVIRONMENT  REVISION  STATE    REQUESTER  DECIDER\n"+
		"services/orders/promotions/7  -            v1.2.3    pending  ci         -\n", r.stdout)
	require.NoError(t, run(ctx, env, "promotion", "approve", "orders", "7", "--reason", "reviewed").err)
	require.NoError(t, run(ctx, env, "promotion", "deny", "orders", "services/orders/promotions/8").err)
	r = run(ctx, env, "promotion", "list", "orders", "--output", "json")
	require.NoError(t, r.err)

	requests, _ := f.calls()
	require.Empty(t, cmpProto(&cairnv1.CreatePromotionRequest{Parent: "services/orders",
		Promotion: &cairnv1.Promotion{Revision: "v1.2.3"}, RequestId: "r-1"}, requests[0]))
	require.Empty(t, cmpProto(&cairnv1.ApprovePromotionRequest{Name: "services/orders/promotions/7", Reason: "reviewed"}, requests[1]))
	require.Empty(t, cmpProto(&cairnv1.DenyPromotionRequest{Name: "services/orders/promotions/8"}, requests[2]))
	require.Len(t, requests, 5, "list reads both pages")
	var list struct {
		Promotions []struct{ Name string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Equal(t, "services/orders/promotions/1", list.Promotions[1].Name)
	r = run(ctx, env, "promotion", "request", "orders", "--revision", "v1.2.0", "--environment", "production-eu", "--force")
	require.NoError(t, r.err)
	requests, _ = f.calls()
	require.Empty(t, cmpProto(&cairnv1.CreatePromotionRequest{Parent: "services/orders",
		Promotion: &cairnv1.Promotion{Revision: "v1.2.0", Environment: "production-eu"}, Force: true}, requests[len(requests)-1]))
}

func TestUsageErrorsExit2WithUsageAndCallNothing(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", []string{"service"}, "service needs a command"},
		{"an unknown command", []string{"promotion", "promote", "orders"}, `unknown command "promotion promote"`},
		{"no name", []string{"service", "create", "--owner", "team-orders"}, "wants 1 argument(s), got 0"},
		{"two names", []string{"service", "status", "a", "b"}, "wants 1 argument(s), got 2"},
		{"no owner", []string{"service", "create", "orders"}, "--owner is required"},
		{"replicas not a number", []string{"service", "create", "orders", "--owner", "t", "--replicas", "three"}, `invalid value "three" for flag -replicas`},
		{"replicas beyond int32", []string{"service", "create", "orders", "--owner", "t", "--replicas", "4294967297"}, "value out of range"},
		{"an unknown output", []string{"service", "status", "orders", "--output", "yaml"}, `--output must be text or json, not "yaml"`},
		{"an unknown flag", []string{"service", "status", "orders", "--watch"}, "flag provided but not defined: -watch"},
		{"no revision", []string{"promotion", "request", "orders"}, "--revision is required"},
		{"no promotion ID", []string{"promotion", "approve", "orders"}, "wants 2 argument(s), got 1"},
	}
	f := &fakeCairn{}
	env := map[string]string{"CAIRN_SERVER": startFake(t, f)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(context.Background(), env, tt.args...)
			require.Error(t, r.err)
			require.Contains(t, r.err.Error(), tt.want)
			require.Equal(t, 2, ExitCode(r.err))
			require.Contains(t, r.stderr, "Usage: cairn ")
			require.Empty(t, r.stdout)
		})
	}
	requests, _ := f.calls()
	require.Empty(t, requests)
}

func TestHelpGoesToStdoutAndNeverShowsTheToken(t *testing.T) {
	env := map[string]string{"CAIRN_TOKEN": "s3cret-token", "CAIRN_SERVER": "cairn.internal:9090"}
	for _, args := range [][]string{{"service", "create", "--help"}, {"promotion", "approve", "-h"}, {"service", "help"}} {
		r := run(context.Background(), env, args...)
		require.NoError(t, r.err)
		require.Contains(t, r.stdout, "Usage: cairn ")
		require.NotContains(t, r.stdout+r.stderr, "s3cret-token")
	}
	r := run(context.Background(), env, "service", "create", "--help")
	require.Contains(t, r.stdout, "(default cairn.internal:9090)")
	require.Contains(t, r.stdout, "  --owner team ")
}

func TestAFailedCallShowsMessageViolationsCodeAndReason(t *testing.T) {
	st, err := status.New(codes.InvalidArgument, "invalid request: check name, database").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_ARGUMENT", Domain: "cairn.dev"},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "name", Description: "value does not match regex pattern"},
			{Field: "database", Description: "value must be in list"},
		}})
	require.NoError(t, err)
	f := &fakeCairn{err: st.Err()}
	env := map[string]string{"CAIRN_SERVER": startFake(t, f), "CAIRN_TOKEN": "s3cret-token"}

	r := run(context.Background(), env, "service", "create", "Orders", "--owner", "t", "--database", "oracle")
	require.Error(t, r.err)
	require.Equal(t, `invalid request: check name, database
  name: value does not match regex pattern
  database: value must be in list
  code InvalidArgument, reason INVALID_ARGUMENT`, r.err.Error())
	require.Equal(t, 1, ExitCode(r.err))
	require.Equal(t, codes.InvalidArgument, status.Code(r.err))
	require.Empty(t, r.stdout+r.stderr)

	f.err = status.Error(codes.PermissionDenied, "no")
	r = run(context.Background(), env, "promotion", "approve", "orders", "1")
	require.Equal(t, "no\n  code PermissionDenied", r.err.Error())
}

func TestFollowPrintsEveryStatusAsOneJSONLine(t *testing.T) {
	f := &fakeCairn{statuses: []*cairnv1.GetServiceStatusResponse{
		{Service: "orders", Phase: "provisioning"}, {Service: "orders", Phase: "ready"}}}
	env := map[string]string{"CAIRN_SERVER": startFake(t, f)}
	r := run(context.Background(), env, "service", "status", "orders", "--follow", "--output", "json")
	require.NoError(t, r.err, "the server ending the stream ends --follow")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 2)
	for i, phase := range []string{"provisioning", "ready"} {
		var s map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &s))
		require.Equal(t, phase, s["phase"])
		require.Equal(t, false, s["stale"], "every field is present")
	}
}

func TestFollowEndsWithoutErrorWhenInterrupted(t *testing.T) {
	f := &fakeCairn{statuses: []*cairnv1.GetServiceStatusResponse{{Service: "orders", Phase: "pending"}}, hold: true}
	addr := startFake(t, f)
	ctx, interrupt := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"service", "status", "orders", "--follow", "--server", addr, "--timeout", "1ms"},
			out, out, func(string) string { return "" })
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "phase: pending") },
		10*time.Second, 10*time.Millisecond, "--timeout does not bound --follow")
	interrupt()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("--follow did not end on interrupt")
	}
}

func TestParseInterleavedTakesFlagsAnywhereAndEverythingAfterDoubleDash(t *testing.T) {
	var opts options
	fs := newTestFlagSet(&opts)
	args, err := parseInterleaved(fs, []string{"--output", "json", "a", "--timeout", "5s", "b", "--", "--c"})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "--c"}, args)
	require.Equal(t, "json", opts.output)
	require.Equal(t, 5*time.Second, opts.timeout)
}

func newTestFlagSet(opts *options) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	opts.register(fs, func(string) string { return "" })
	return fs
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cmpProto is empty when the messages are equal, else both, to compare.
func cmpProto(want, got proto.Message) string {
	if proto.Equal(want, got) {
		return ""
	}
	return fmt.Sprintf("want %v\n got %v", want, got)
}

func TestTLSTrustsTheCAFileGiven(t *testing.T) {
	// httptest's certificate is valid for 127.0.0.1 and signed by itself.
	https := httptest.NewTLSServer(nil)
	https.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: https.Certificate().Raw}), 0o600))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&https.TLS.Certificates[0])))
	f := &fakeCairn{statuses: []*cairnv1.GetServiceStatusResponse{{Service: "orders", Phase: "ready"}}}
	cairnv1.RegisterProvisioningServiceServer(srv, f)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	env := map[string]string{"CAIRN_SERVER": l.Addr().String()}

	r := run(context.Background(), env, "service", "status", "orders", "--tls-ca-file", caFile)
	require.NoError(t, r.err)
	require.Contains(t, r.stdout, "phase: ready")

	r = run(context.Background(), env, "service", "status", "orders", "--tls")
	require.ErrorContains(t, r.err, "certificate", "the system's roots do not trust it")
	r = run(context.Background(), env, "service", "status", "orders", "--tls-ca-file", filepath.Join(t.TempDir(), "none.pem"))
	require.ErrorContains(t, r.err, "--tls-ca-file: open ")
}
