package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/auth/authtest"
	"github.com/cairn-dev/cairn/server/cost"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/server/provisioning"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// The static tokens of the test server, one per role. Developers and
// approvers belong to team-a.
var roleTokens = map[auth.Role]string{
	auth.RoleViewer:    "viewer-token-0123456789",
	auth.RoleDeveloper: "developer-token-0123456789",
	auth.RoleApprover:  "approver-token-0123456789",
	auth.RoleAdmin:     "admin-token-0123456789",
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// guarded is Cairn's gRPC server and REST gateway, in process, with
// authentication required, the role tokens and a Backstage issuer.
type guarded struct {
	conn     *grpc.ClientConn
	http     *httptest.Server
	store    store.Store
	issuer   *authtest.Issuer
	logs     *lockedBuffer
	registry *prometheus.Registry
	guard    *guard
	grpcLis  *bufconn.Listener
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newGuarded(t *testing.T, configure func(*Config)) *guarded {
	t.Helper()
	return newGuardedOver(t, configure, nil)
}

// newGuardedOver is newGuarded with the API's services over wrap(store)
// rather than the store itself; the guard audits to the store itself.
func newGuardedOver(t *testing.T, configure func(*Config), wrap func(store.Store) store.Store) *guarded {
	t.Helper()
	ctx := context.Background()
	issuer := authtest.NewIssuer(t)
	cfg := DefaultConfig()
	cfg.Auth = auth.Config{Mode: auth.ModeRequired, Backstage: issuer.Config(authtest.Audience)}
	cfg.Auth.Backstage.Approvers = []string{"user:default/ann"}
	for role, token := range roleTokens {
		teams := []string{"team-a"}
		if role == auth.RoleViewer || role == auth.RoleAdmin {
			teams = nil
		}
		cfg.Auth.Tokens = append(cfg.Auth.Tokens, auth.TokenConfig{
			Name: string(role) + "-bot", SHA256: sha256Hex(token), Roles: []auth.Role{role}, Teams: teams,
		})
	}
	if configure != nil {
		configure(&cfg)
	}
	require.NoError(t, cfg.validate())

	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))

	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	authenticator, err := auth.NewAuthenticator(ctx, cfg.Auth, http.DefaultClient)
	require.NoError(t, err)
	registry := prometheus.NewRegistry()
	g := newGuard(authenticator, st, cfg, logger, registry)
	served := store.Store(st)
	if wrap != nil {
		served = wrap(st)
	}
	provisioner := provisioning.New(served, nil, manifest.DefaultSettings(), entityref.Teams{}, provisioning.NewMetrics(registry), logger)
	api, err := newAPI(cfg, logger, served, provisioner, delivery.NewServer(delivery.New(served, delivery.NewPrometheus(registry), delivery.DefaultEventWindow, entityref.Teams{}, []string{"production"}), delivery.NewPlatform(served, nil)), nil, g, registry)
	require.NoError(t, err)
	lis := bufconn.Listen(1 << 20)
	go api.grpc.Serve(lis)
	t.Cleanup(api.grpc.Stop)

	gatewayCtx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	gateway, err := newGateway(gatewayCtx, api.inProcess)
	require.NoError(t, err)
	// As Run serves it.
	slack, err := newSlack(cfg, authenticator, api, logger, registry)
	require.NoError(t, err)
	if slack != nil {
		t.Cleanup(slack.Close)
	}
	httpSrv := httptest.NewUnstartedServer(newHTTPHandler(cfg, g, gateway, cost.FocusImportHandler(api.inProcess, forwardedToFocusImport),
		slackHandler(slack), registry, &readiness{store: st}))
	httpSrv.Config.ReadHeaderTimeout = 10 * time.Second
	httpSrv.Config.MaxHeaderBytes = maxHeaderBytes
	httpSrv.Start()
	t.Cleanup(httpSrv.Close)

	conn, err := grpc.NewClient("passthrough:///cairn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &guarded{conn: conn, http: httpSrv, store: st, issuer: issuer, logs: logs, registry: registry, guard: g, grpcLis: lis}
}

// call invokes any RPC of Cairn's API with an empty request, as bearer
// (no Authorization when empty), and returns the status code.
func (g *guarded) call(t *testing.T, method protoreflect.MethodDescriptor, bearer string) codes.Code {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if bearer != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bearer)
	}
	in := newMessage(t, method.Input())
	out := newMessage(t, method.Output())
	name := "/" + string(method.Parent().FullName()) + "/" + string(method.Name())
	if !method.IsStreamingClient() && !method.IsStreamingServer() {
		return status.Code(g.conn.Invoke(ctx, name, in, out))
	}
	desc := &grpc.StreamDesc{ServerStreams: method.IsStreamingServer(), ClientStreams: method.IsStreamingClient()}
	stream, err := g.conn.NewStream(ctx, desc, name)
	if err != nil {
		return status.Code(err)
	}
	if err := stream.SendMsg(in); err != nil && err != io.EOF {
		return status.Code(err)
	}
	if err := stream.CloseSend(); err != nil {
		return status.Code(err)
	}
	return status.Code(stream.RecvMsg(out))
}

func newMessage(t *testing.T, d protoreflect.MessageDescriptor) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(d.FullName())
	require.NoError(t, err)
	return mt.New().Interface()
}

// apiMethods are every RPC of Cairn's API.
func apiMethods() []protoreflect.MethodDescriptor {
	var methods []protoreflect.MethodDescriptor
	for _, file := range []protoreflect.FileDescriptor{
		cairnv1.File_cairn_v1_catalog_proto, cairnv1.File_cairn_v1_provisioning_proto,
		cairnv1.File_cairn_v1_cost_proto, cairnv1.File_cairn_v1_metrics_proto, cairnv1.File_cairn_v1_audit_proto,
	} {
		for i := range file.Services().Len() {
			service := file.Services().Get(i)
			for j := range service.Methods().Len() {
				methods = append(methods, service.Methods().Get(j))
			}
		}
	}
	return methods
}

func fullName(m protoreflect.MethodDescriptor) string {
	return "/" + string(m.Parent().FullName()) + "/" + string(m.Name())
}

func TestEveryRPCHasAnAuthorizationRuleAndEveryRuleAnRPC(t *testing.T) {
	methods := map[string]bool{}
	for _, m := range apiMethods() {
		methods[fullName(m)] = true
		require.Contains(t, rules, fullName(m), "add %s to the rules table in rules.go", fullName(m))
	}
	for name := range rules {
		require.True(t, methods[name], "rules.go names %s, which the API does not have", name)
	}
}

func TestRolesByRPCMatrix(t *testing.T) {
	g := newGuarded(t, nil)
	for _, method := range apiMethods() {
		r := rules[fullName(method)]
		t.Run(string(method.Parent().Name())+"."+string(method.Name()), func(t *testing.T) {
			require.Equal(t, codes.Unauthenticated, g.call(t, method, ""), "no token")
			require.Equal(t, codes.Unauthenticated, g.call(t, method, "not-a-known-token"), "unknown token")
			for _, role := range auth.Roles {
				code := g.call(t, method, roleTokens[role])
				wantAllowed := role == r.role || role == auth.RoleAdmin || r.role == auth.RoleViewer
				if wantAllowed {
					require.NotContains(t, []codes.Code{codes.Unauthenticated, codes.PermissionDenied}, code, "%s may call it", role)
				} else {
					require.Equal(t, codes.PermissionDenied, code, "%s may not call it", role)
				}
			}
		})
	}
}

func TestBackstageUserTokens(t *testing.T) {
	g := newGuarded(t, nil)
	getService := cairnv1.File_cairn_v1_catalog_proto.Services().ByName("CatalogService").Methods().ByName("ListServices")
	valid := g.issuer.Token(t, "user:default/jane", []string{"user:default/jane", "group:default/team-a"}, time.Hour)
	require.Equal(t, codes.OK, g.call(t, getService, valid))

	tests := []struct {
		name  string
		token string
	}{
		{"an expired token", g.issuer.Token(t, "user:default/jane", nil, -time.Minute)},
		{"a token for another audience", g.issuer.Sign(t, map[string]any{
			"iss": g.issuer.URL, "sub": "user:default/jane", "aud": "another-app", "exp": time.Now().Add(time.Hour).Unix(),
		})},
		{"a token signed by an unknown key", authtest.NewIssuer(t).Token(t, "user:default/jane", nil, time.Hour)},
		{"a token from another issuer", g.issuer.Sign(t, map[string]any{
			"iss": "https://elsewhere.example/api/auth", "sub": "user:default/jane", "aud": authtest.Audience, "exp": time.Now().Add(time.Hour).Unix(),
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, codes.Unauthenticated, g.call(t, getService, tt.token))
		})
	}
}

func register(ctx context.Context, conn *grpc.ClientConn, bearer, name, owner string) error {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bearer)
	_, err := cairnv1.NewCatalogServiceClient(conn).RegisterService(ctx, &cairnv1.RegisterServiceRequest{
		Source: &cairnv1.RegisterServiceRequest_Service{Service: &cairnv1.Service{
			Name: "services/" + name, Type: "service", Lifecycle: "production", Owner: owner,
		}},
	})
	return err
}

func TestADeveloperOfTeamAActingOnTeamBIsDenied(t *testing.T) {
	g := newGuarded(t, nil)
	ctx := context.Background()
	require.NoError(t, register(ctx, g.conn, roleTokens[auth.RoleAdmin], "b-service", "team-b"))
	developer := roleTokens[auth.RoleDeveloper]

	require.NoError(t, register(ctx, g.conn, developer, "a-service", "group:default/team-a"))
	require.Equal(t, codes.PermissionDenied, status.Code(register(ctx, g.conn, developer, "b-service", "team-a")))
	require.Equal(t, codes.PermissionDenied, status.Code(register(ctx, g.conn, developer, "new-b-service", "team-b")))

	jane := g.issuer.Token(t, "user:default/jane", []string{"group:default/team-a"}, time.Hour)
	del, err := http.NewRequest(http.MethodDelete, g.http.URL+"/v1/services/b-service", nil)
	require.NoError(t, err)
	del.Header.Set("Authorization", "Bearer "+jane)
	resp, err := http.DefaultClient.Do(del)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	anonymous, err := http.Get(g.http.URL + "/v1/services")
	require.NoError(t, err)
	anonymous.Body.Close()
	require.Equal(t, http.StatusUnauthorized, anonymous.StatusCode)
}

func TestEveryMutatingCallLeavesExactlyOneAuditEvent(t *testing.T) {
	// Every unauthenticated call audited too: their rate has a test of its own.
	g := newGuarded(t, func(c *Config) { c.UnauthenticatedAuditRate = 0 })
	for _, method := range apiMethods() {
		r := rules[fullName(method)]
		action := strings.TrimPrefix(fullName(method), "/")
		t.Run(action, func(t *testing.T) {
			g.call(t, method, roleTokens[auth.RoleAdmin]) // allowed: it succeeds or fails
			g.call(t, method, "")                         // unauthenticated
			g.call(t, method, "wrong-token")              // unauthenticated
			if r.role != auth.RoleViewer {
				g.call(t, method, roleTokens[auth.RoleViewer]) // lacks the role
			}
			events, err := g.store.ListAuditEvents(context.Background(), store.AuditFilter{Action: action}, 0, 100)
			require.NoError(t, err)
			if !r.mutating {
				require.Empty(t, events, "reads are not audited")
				return
			}
			want := 3
			if r.role != auth.RoleViewer {
				want = 4
			}
			require.Len(t, events, want, "one event per call")
			outcomes := map[string]int{}
			for _, e := range events {
				outcomes[e.Outcome]++
				require.NotEmpty(t, e.RequestID)
			}
			require.Equal(t, want-1, outcomes["denied"])
			require.Equal(t, 1, outcomes["succeeded"]+outcomes["failed"])
		})
	}
}

func TestTokensNeverReachTheLogs(t *testing.T) {
	g := newGuarded(t, nil)
	listServices := cairnv1.File_cairn_v1_catalog_proto.Services().ByName("CatalogService").Methods().ByName("ListServices")
	jwt := g.issuer.Token(t, "user:default/jane", []string{"group:default/team-a"}, time.Hour)
	expired := g.issuer.Token(t, "user:default/jane", nil, -time.Hour)
	secrets := []string{roleTokens[auth.RoleViewer], jwt, expired, "guessed-token-0123456789"}

	require.Equal(t, codes.OK, g.call(t, listServices, roleTokens[auth.RoleViewer]))
	require.Equal(t, codes.OK, g.call(t, listServices, jwt))
	require.Equal(t, codes.Unauthenticated, g.call(t, listServices, expired))
	require.Equal(t, codes.Unauthenticated, g.call(t, listServices, "guessed-token-0123456789"))
	for _, bearer := range secrets {
		req, err := http.NewRequest(http.MethodGet, g.http.URL+"/v1/services", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}

	logs := g.logs.String()
	require.Contains(t, logs, "Unauthenticated", "the failed calls were logged")
	for _, secret := range secrets {
		require.NotContains(t, logs, secret)
		// JWTs: not even one of their parts.
		for _, part := range strings.Split(secret, ".") {
			if len(part) >= 8 {
				require.NotContains(t, logs, part)
			}
		}
	}
}

func TestARateLimitedCallerIsToldWhenToRetry(t *testing.T) {
	g := newGuarded(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.5, 2 })
	listServices := cairnv1.File_cairn_v1_catalog_proto.Services().ByName("CatalogService").Methods().ByName("ListServices")
	viewer := roleTokens[auth.RoleViewer]
	require.Equal(t, codes.OK, g.call(t, listServices, viewer))
	require.Equal(t, codes.OK, g.call(t, listServices, viewer))

	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+viewer)
	_, err := cairnv1.NewCatalogServiceClient(g.conn).ListServices(ctx, &cairnv1.ListServicesRequest{})
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code())
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	require.NotNil(t, retry)
	require.Greater(t, retry.GetRetryDelay().AsDuration(), time.Duration(0))

	req, err := http.NewRequest(http.MethodGet, g.http.URL+"/v1/services", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+viewer)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))

	// Another principal has a bucket of its own.
	require.Equal(t, codes.OK, g.call(t, listServices, roleTokens[auth.RoleAdmin]))
}

func TestAuditTargetsAreResourceNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  proto.Message
		want string
	}{
		{"a name", &cairnv1.GetServiceCostRequest{Name: "services/orders"}, "services/orders"},
		{"a create's service id", &cairnv1.CreateServiceRequest{Name: "orders"}, "services/orders"},
		{"an event's service", &cairnv1.RecordDeploymentRequest{Service: "orders"}, "services/orders"},
		{"the resource a response carries", &cairnv1.RegisterServiceResponse{Service: &cairnv1.Service{Name: "services/orders"}}, "services/orders"},
		{"nothing to name", &cairnv1.RecordSupportTicketRequest{Id: "T-1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, resourceName(tc.msg))
		})
	}
}

// counterValue is the value of a counter the guarded server exports, by
// its name and one label (none when label is empty).
func counterValue(t *testing.T, g *guarded, name, label, value string) float64 {
	t.Helper()
	families, err := g.registry.Gather()
	require.NoError(t, err)
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
		for _, m := range family.GetMetric() {
			matches := label == ""
			for _, l := range m.GetLabel() {
				matches = matches || (l.GetName() == label && l.GetValue() == value)
			}
			if matches {
				return m.GetCounter().GetValue()
			}
		}
	}
	require.Failf(t, "no such counter", "%s{%s=%q}", name, label, value)
	return 0
}

// panickingDeletes is a store whose DeleteService panics: a handler bug.
type panickingDeletes struct{ store.Store }

func (panickingDeletes) DeleteService(context.Context, string, string) error {
	panic("a bug in DeleteService")
}

func TestAPanickingMutatingCallLeavesExactlyOneFailedAuditEvent(t *testing.T) {
	g := newGuardedOver(t, nil, func(s store.Store) store.Store { return panickingDeletes{s} })
	admin := roleTokens[auth.RoleAdmin]
	ctx := context.Background()
	for _, transport := range []string{"gRPC", "REST"} {
		t.Run(transport, func(t *testing.T) {
			name := "panics-over-" + strings.ToLower(transport)
			require.NoError(t, register(ctx, g.conn, admin, name, "team-a"))
			if transport == "gRPC" {
				_, err := cairnv1.NewCatalogServiceClient(g.conn).DeleteService(
					metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+admin),
					&cairnv1.DeleteServiceRequest{Name: "services/" + name})
				require.Equal(t, codes.Internal, status.Code(err))
			} else {
				req, err := http.NewRequest(http.MethodDelete, g.http.URL+"/v1/services/"+name, nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+admin)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			}
			events, err := g.store.ListAuditEvents(ctx, store.AuditFilter{
				Action: "cairn.v1.CatalogService/DeleteService", Target: "services/" + name,
			}, 0, 10)
			require.NoError(t, err)
			require.Len(t, events, 1)
			require.Equal(t, "failed", events[0].Outcome)
			require.Equal(t, "Internal", events[0].Code)
			require.Equal(t, "admin-bot", events[0].Principal)
		})
	}
	require.Contains(t, g.logs.String(), "a bug in DeleteService", "recovery still logs the panic")
}

func TestUnauthenticatedCallsAreCountedAndTheirAuditEventsRateLimited(t *testing.T) {
	g := newGuarded(t, func(c *Config) { c.UnauthenticatedAuditRate, c.UnauthenticatedAuditBurst = 1, 3 })
	clock := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
	g.guard.now = func() time.Time { return clock } // the bucket never refills
	ctx := context.Background()
	// A megabyte of name less the envelope: as large as gRPC takes.
	hugeName := "services/" + strings.Repeat("x", 1000) + "\nforged line" + strings.Repeat("x", 500<<10)
	for range 5 {
		err := register(ctx, g.conn, "", strings.TrimPrefix(hugeName, "services/"), "team-a")
		require.Equal(t, codes.Unauthenticated, status.Code(err))

		body := fmt.Sprintf(`{"service":{"name":%q}}`, hugeName)
		resp, err := http.Post(g.http.URL+"/v1/services:register", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}

	events, err := g.store.ListAuditEvents(ctx, store.AuditFilter{Principal: "anonymous"}, 0, 100)
	require.NoError(t, err)
	require.Len(t, events, 3, "the burst, then none")
	for _, e := range events {
		require.LessOrEqual(t, len(e.Target), store.MaxAuditFieldBytes)
		require.NotContains(t, e.Target, "\n")
	}
	require.Equal(t, 5.0, counterValue(t, g, "cairn_unauthenticated_calls_total", "transport", "grpc"))
	require.Equal(t, 5.0, counterValue(t, g, "cairn_unauthenticated_calls_total", "transport", "rest"))
	require.Equal(t, 7.0, counterValue(t, g, "cairn_audit_events_suppressed_total", "", ""))
	require.Equal(t, 1, strings.Count(g.logs.String(), "unauthenticated calls come faster than the audit rate"), "said once, not per call")

	// Authenticated callers are audited whatever the unauthenticated do.
	require.Error(t, register(ctx, g.conn, roleTokens[auth.RoleViewer], "viewers-cannot", "team-a"))
	events, err = g.store.ListAuditEvents(ctx, store.AuditFilter{Principal: "viewer-bot"}, 0, 100)
	require.NoError(t, err)
	require.Len(t, events, 1)
}

// failingAudit is an audit store that cannot write, and says so at length,
// as a driver quoting what it was given might.
type failingAudit struct{ store.AuditStore }

func (failingAudit) AppendAuditEvent(_ context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	return store.AuditEvent{}, fmt.Errorf("index row too large: %s", e.Target)
}

func TestAnAuditEventTheStoreCannotWriteIsCountedAndLoggedBounded(t *testing.T) {
	g := newGuarded(t, nil)
	g.guard.audit = failingAudit{g.store}
	longName := "a" + strings.Repeat("b", 100<<10)
	register(context.Background(), g.conn, roleTokens[auth.RoleDeveloper], longName, "team-b")

	require.Equal(t, 1.0, counterValue(t, g, "cairn_audit_write_failures_total", "", ""))
	var line string
	for l := range strings.SplitSeq(g.logs.String(), "\n") {
		if strings.Contains(l, "writing the audit event failed") {
			line = l
		}
	}
	require.NotEmpty(t, line)
	require.Less(t, len(line), 2*store.MaxAuditFieldBytes+2*maxLoggedErrorBytes)
	require.Contains(t, line, "developer-bot")
}

func TestDeniedCallsCountAgainstTheCallersRateLimit(t *testing.T) {
	g := newGuarded(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.001, 2 })
	viewer := roleTokens[auth.RoleViewer]
	ctx := context.Background()
	require.Equal(t, codes.PermissionDenied, status.Code(register(ctx, g.conn, viewer, "x", "team-a")))
	require.Equal(t, codes.PermissionDenied, status.Code(register(ctx, g.conn, viewer, "x", "team-a")))
	require.Equal(t, codes.ResourceExhausted, status.Code(register(ctx, g.conn, viewer, "x", "team-a")))
	events, err := g.store.ListAuditEvents(ctx, store.AuditFilter{Principal: "viewer-bot"}, 0, 100)
	require.NoError(t, err)
	require.Len(t, events, 3, "every call audited, the limited one as failed")
}

func TestPrincipalLimiterDropsFullBucketsOnly(t *testing.T) {
	clock := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
	l := newPrincipalLimiter(1, 2, func() time.Time { return clock })
	// One principal spends its burst.
	for range 2 {
		_, ok := l.allow("busy")
		require.True(t, ok)
	}
	_, ok := l.allow("busy")
	require.False(t, ok)

	// A crowd calls once each, at the same instant: their buckets are not
	// full, so none can go.
	for i := range 3 * minSweepSize {
		_, ok := l.allow(fmt.Sprintf("user:default/u%d", i))
		require.True(t, ok)
	}
	require.Len(t, l.buckets, 3*minSweepSize+1)
	_, ok = l.allow("busy")
	require.False(t, ok, "the busy principal's bucket was kept")

	// Later, the crowd's buckets are full again: the next sweep drops them,
	// and the map stays within twice the principals calling since.
	clock = clock.Add(time.Minute)
	for i := range 4 * minSweepSize {
		_, ok := l.allow(fmt.Sprintf("user:default/later%d", i%10))
		require.True(t, ok)
		_, ok = l.allow(fmt.Sprintf("user:default/new%d", i))
		require.True(t, ok)
		clock = clock.Add(time.Second)
	}
	require.LessOrEqual(t, len(l.buckets), 2*minSweepSize+10)
}

func TestGuardMetricsPassPromlint(t *testing.T) {
	g := newGuarded(t, nil)
	families, err := g.registry.Gather()
	require.NoError(t, err)
	var ours []*dto.MetricFamily
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "cairn_unauthenticated") || strings.HasPrefix(f.GetName(), "cairn_audit") {
			ours = append(ours, f)
		}
	}
	require.Len(t, ours, 3)
	problems, err := promlint.NewWithMetricFamilies(ours).Lint()
	require.NoError(t, err)
	require.Empty(t, problems)
}
