package main

// End-to-end tests: the real cairn binary, built once, started on random
// ports with each store engine, and called over gRPC and REST as clients do.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/internal/testenv/testnet"
)

var cairnBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cairnBinary = filepath.Join(dir, "cairn")
	build := exec.Command("go", "build", "-o", cairnBinary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cairn:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	kubetest.Run(func() { pgtest.Main(m) })
}

// engines are the stores every end-to-end test runs against: a fresh store
// of each kind per call.
var engines = []struct {
	name     string
	storeURL func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "cairn.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.Shared(t).NewDatabase(t) }},
}

// adminToken is the bearer token the tests call with: the config file each
// test writes holds only its SHA-256.
const adminToken = "e2e-admin-token-7c1f0b9d"

// bearer sends adminToken with every gRPC call.
type bearer struct{}

func (bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + adminToken}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// writeConfig writes a config file with authentication required and one
// admin token, plus extra YAML.
func writeConfig(t *testing.T, extraTokens string) string {
	t.Helper()
	config := fmt.Sprintf("auth:\n  mode: required\n  tokens:\n    - name: e2e-admin\n      sha256: %s\n      roles: [admin]\n%s",
		tokenHash(adminToken), extraTokens)
	path := filepath.Join(t.TempDir(), "cairn.yaml")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
	return path
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// cairnProcess is a running cairn binary.
type cairnProcess struct {
	grpcAddr, httpAddr string
	conn               *grpc.ClientConn
	cmd                *exec.Cmd
	logs               *syncBuffer
	exited             chan error
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

// startCairn starts the binary on free ports with the store at storeURL
// and waits until gRPC health reports SERVING.
func startCairn(t *testing.T, storeURL string) *cairnProcess {
	t.Helper()
	p := launchCairn(t, storeURL)
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	return p
}

// launchCairn starts the binary and returns without waiting for it.
func launchCairn(t *testing.T, storeURL string, args ...string) *cairnProcess {
	t.Helper()
	return launchCairnWithConfig(t, storeURL, writeConfig(t, ""), args...)
}

// launchCairnWithConfig starts the binary with the config file given.
func launchCairnWithConfig(t *testing.T, storeURL, configFile string, args ...string) *cairnProcess {
	t.Helper()
	p := &cairnProcess{grpcAddr: testnet.FreeAddr(t), httpAddr: testnet.FreeAddr(t), logs: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(cairnBinary, append([]string{"serve",
		"--grpc-addr", p.grpcAddr, "--http-addr", p.httpAddr, "--store", storeURL, "--shutdown-timeout", "5s",
		"--config", configFile}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("cairn log:\n%s", p.logs.String())
		}
	})

	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(bearer{}))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	p.conn = conn
	return p
}

// waitHealth waits until gRPC health reports want for the whole server.
func (p *cairnProcess) waitHealth(t *testing.T, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	health := healthpb.NewHealthClient(p.conn)
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == want
	}, 30*time.Second, 50*time.Millisecond, "health did not become %s; log:\n%s", want, p.logs.String())
}

// stop sends SIGTERM and returns the exit error.
func (p *cairnProcess) stop(t *testing.T) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.exited:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("cairn did not stop within 20s of SIGTERM")
		return nil
	}
}

type restResponse struct {
	status int
	body   map[string]any
	raw    string
}

func (p *cairnProcess) rest(t *testing.T, method, path string, body io.Reader) restResponse {
	t.Helper()
	return p.restAs(t, adminToken, method, path, body)
}

// restAs calls the REST facade with the given bearer token.
func (p *cairnProcess) restAs(t *testing.T, token, method, path string, body io.Reader) restResponse {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.httpAddr+path, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return decodeResponse(resp.StatusCode, raw)
}

// decodeResponse reads a REST response; plain-text bodies leave body nil.
func decodeResponse(status int, raw []byte) restResponse {
	out := restResponse{status: status, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// fieldViolations returns the fields named by the BadRequest in a REST
// error body.
func fieldViolations(t *testing.T, r restResponse) []string {
	t.Helper()
	var fields []string
	details, _ := r.body["details"].([]any)
	for _, d := range details {
		detail := d.(map[string]any)
		if detail["@type"] != "type.googleapis.com/google.rpc.BadRequest" {
			continue
		}
		for _, v := range detail["fieldViolations"].([]any) {
			fields = append(fields, v.(map[string]any)["field"].(string))
		}
	}
	return fields
}

func registerBody(t *testing.T, yamlDoc string) io.Reader {
	t.Helper()
	b, err := json.Marshal(map[string]string{"catalogInfoYaml": yamlDoc})
	require.NoError(t, err)
	return bytes.NewReader(b)
}

func TestCairnServesCatalogOverGRPCAndREST(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) { testCatalog(t, engine.storeURL(t)) })
	}
}

func testCatalog(t *testing.T, storeURL string) {
	p := startCairn(t, storeURL)
	ctx := context.Background()
	catalog := cairnv1.NewCatalogServiceClient(p.conn)

	t.Run("ReflectionListsTheFourServicesHealthAndReflection", func(t *testing.T) {
		streamCtx, cancel := context.WithCancel(ctx)
		defer cancel() // a stream left open would hold up graceful shutdown
		stream, err := reflectionpb.NewServerReflectionClient(p.conn).ServerReflectionInfo(streamCtx)
		require.NoError(t, err)
		require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
			MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
		}))
		resp, err := stream.Recv()
		require.NoError(t, err)
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		require.ElementsMatch(t, []string{
			"cairn.v1.AuditService", "cairn.v1.CatalogService", "cairn.v1.ProvisioningService", "cairn.v1.CostService",
			"cairn.v1.MetricsService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
			"grpc.reflection.v1alpha.ServerReflection",
		}, names)
	})

	t.Run("HealthEndpointsAnswer", func(t *testing.T) {
		require.Equal(t, http.StatusOK, p.rest(t, "GET", "/healthz", nil).status)
		require.Equal(t, http.StatusOK, p.rest(t, "GET", "/readyz", nil).status)
		resp, err := healthpb.NewHealthClient(p.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "cairn.v1.CatalogService"})
		require.NoError(t, err)
		require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	})

	var seedEtag string
	t.Run("TheSeedCatalogInfoRegistersOverRESTAndReadsBackOverBoth", func(t *testing.T) {
		body, err := os.ReadFile("../../deploy/examples/register-orders-service.json")
		require.NoError(t, err)
		r := p.rest(t, "POST", "/v1/services:register", bytes.NewReader(body))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "services/orders-service", r.body["name"])

		got := p.rest(t, "GET", "/v1/services/orders-service", nil)
		require.Equal(t, http.StatusOK, got.status, got.raw)
		require.Equal(t, "team-orders", got.body["owner"])
		require.Equal(t, "orders-platform", got.body["system"])
		require.Equal(t, "production", got.body["lifecycle"])
		require.Equal(t, "service", got.body["type"])
		require.Equal(t, []any{"nodejs", "typescript"}, got.body["tags"])
		require.Equal(t, []any{"orders-service-api"}, got.body["providesApis"])
		require.Equal(t, true, got.body["goldenPath"])
		require.Equal(t, "company/orders-service", got.body["annotations"].(map[string]any)["github.com/project-slug"])
		require.Equal(t, "Grafana Dashboard", got.body["links"].([]any)[0].(map[string]any)["title"])

		resp, err := catalog.GetService(ctx, &cairnv1.GetServiceRequest{Name: "services/orders-service"})
		require.NoError(t, err)
		require.Equal(t, got.body["etag"], resp.GetService().GetEtag())
		seedEtag = resp.GetService().GetEtag()
	})

	t.Run("BadInputIs400WithFieldViolationsAndChangesNothing", func(t *testing.T) {
		valid := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: %s\n"
		tests := []struct {
			name   string
			body   io.Reader
			status int
			fields []string
		}{
			{"a name that is not a DNS-1123 label", registerBody(t, fmt.Sprintf(valid, "Orders_Service", "team-orders")), 400, []string{"catalog_info_yaml.metadata.name"}},
			{"an empty owner", registerBody(t, fmt.Sprintf(valid, "orders-service", `""`)), 400, []string{"catalog_info_yaml.spec.owner"}},
			{"a YAML of the wrong kind", registerBody(t, strings.Replace(fmt.Sprintf(valid, "orders-service", "team-x"), "Component", "Group", 1)), 400, []string{"catalog_info_yaml.kind"}},
			{"a field the API does not have", strings.NewReader(`{"catalogInfoYAML": "x"}`), 400, nil},
			{"no source at all", strings.NewReader(`{}`), 400, []string{"source"}},
			{"a 5 MiB body", registerBody(t, strings.Repeat("#", 5<<20)), 413, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := p.rest(t, "POST", "/v1/services:register", tt.body)
				require.Equal(t, tt.status, r.status, r.raw)
				require.NotEmpty(t, r.body["message"], r.raw)
				if tt.fields != nil {
					require.Equal(t, tt.fields, fieldViolations(t, r))
				}
			})
		}

		list, err := catalog.ListServices(ctx, &cairnv1.ListServicesRequest{})
		require.NoError(t, err)
		require.Len(t, list.GetServices(), 1, "only the seed service")
		require.Equal(t, seedEtag, list.GetServices()[0].GetEtag(), "the seed service is unchanged")
	})

	t.Run("A5MiBMessageOverGRPCIsResourceExhausted", func(t *testing.T) {
		_, err := catalog.RegisterService(ctx, &cairnv1.RegisterServiceRequest{
			Source: &cairnv1.RegisterServiceRequest_CatalogInfoYaml{CatalogInfoYaml: strings.Repeat("#", 5<<20)},
		})
		require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
	})

	t.Run("Listing250ServicesInPagesOf100ReturnsEachOnce", func(t *testing.T) {
		for i := range 249 {
			_, err := catalog.RegisterService(ctx, &cairnv1.RegisterServiceRequest{Source: &cairnv1.RegisterServiceRequest_Service{
				Service: &cairnv1.Service{Name: fmt.Sprintf("services/svc-%03d", i), Type: "service", Lifecycle: "production", Owner: "team-bulk"},
			}})
			require.NoError(t, err)
		}

		seen := map[string]int{}
		token, pages := "", 0
		for {
			r := p.rest(t, "GET", "/v1/services?pageSize=100&pageToken="+token, nil)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			pages++
			for _, s := range r.body["services"].([]any) {
				seen[s.(map[string]any)["name"].(string)]++
			}
			token = r.body["nextPageToken"].(string)
			if token == "" {
				break
			}
		}
		require.Equal(t, 3, pages)
		require.Len(t, seen, 250)
		for name, n := range seen {
			require.Equal(t, 1, n, name)
		}

		grpcSeen := 0
		req := &cairnv1.ListServicesRequest{PageSize: 100, Owner: "group:default/team-bulk"}
		for {
			resp, err := catalog.ListServices(ctx, req)
			require.NoError(t, err)
			grpcSeen += len(resp.GetServices())
			if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
				break
			}
		}
		require.Equal(t, 249, grpcSeen)
	})

	t.Run("TeamsAreListedWithCounts", func(t *testing.T) {
		r := p.rest(t, "GET", "/v1/teams", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, []any{
			map[string]any{"name": "teams/team-bulk", "serviceCount": float64(249), "goldenPathServiceCount": float64(0)},
			map[string]any{"name": "teams/team-orders", "serviceCount": float64(1), "goldenPathServiceCount": float64(1)},
		}, r.body["teams"])
	})

	t.Run("DeleteWithAStaleEtagIs409ThenDeleteAndGetIs404", func(t *testing.T) {
		r := p.rest(t, "DELETE", "/v1/services/svc-000?etag=stale", nil)
		require.Equal(t, http.StatusConflict, r.status, r.raw)
		r = p.rest(t, "DELETE", "/v1/services/svc-000", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		r = p.rest(t, "GET", "/v1/services/svc-000", nil)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		_, err := catalog.GetService(ctx, &cairnv1.GetServiceRequest{Name: "services/svc-000"})
		require.Equal(t, codes.NotFound, status.Code(err))
	})

	t.Run("ProvisioningWithoutAClusterIsAFailedPreconditionThatSaysHowToConfigureOne", func(t *testing.T) {
		r := p.rest(t, "GET", "/v1/services/orders-service/status", nil)
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		require.Equal(t, float64(codes.FailedPrecondition), r.body["code"])
		require.Contains(t, r.body["message"], "--kubeconfig")
	})

	t.Run("MetricsExportGRPCServerMetrics", func(t *testing.T) {
		r := p.rest(t, "GET", "/metrics", nil)
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, r.raw, `grpc_server_handled_total{grpc_code="OK",grpc_method="RegisterService",grpc_service="cairn.v1.CatalogService",grpc_type="unary"}`)
		require.Contains(t, r.raw, "grpc_server_handling_seconds_bucket")
	})

	t.Run("SIGTERMShutsDownCleanlyAndTheDataSurvivesARestart", func(t *testing.T) {
		require.NoError(t, p.stop(t))
		require.Contains(t, p.logs.String(), "shutting down")

		again := startCairn(t, storeURL)
		resp, err := cairnv1.NewCatalogServiceClient(again.conn).GetService(ctx, &cairnv1.GetServiceRequest{Name: "services/orders-service"})
		require.NoError(t, err)
		require.Equal(t, seedEtag, resp.GetService().GetEtag())
		require.NoError(t, again.stop(t))
	})
}

func TestPostgresOutageAnswersUnavailableAndRecoversWithNothingLost(t *testing.T) {
	pg := pgtest.New(t)
	storeURL := pg.NewDatabase(t)
	p := startCairn(t, storeURL)
	ctx := context.Background()
	catalog := cairnv1.NewCatalogServiceClient(p.conn)

	body, err := os.ReadFile("../../deploy/examples/register-orders-service.json")
	require.NoError(t, err)
	r := p.rest(t, "POST", "/v1/services:register", bytes.NewReader(body))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	etag := r.body["etag"]

	pg.Stop(t)
	require.Eventually(t, func() bool {
		return p.rest(t, "GET", "/v1/services/orders-service", nil).status == http.StatusServiceUnavailable
	}, 10*time.Second, 50*time.Millisecond, "reads did not answer 503 while PostgreSQL was down")
	doc, err := os.ReadFile("../../deploy/examples/catalog-info.yaml")
	require.NoError(t, err)
	r = p.rest(t, "POST", "/v1/services:register", registerBody(t, strings.Replace(string(doc), "lifecycle: production", "lifecycle: deprecated", 1)))
	require.Equal(t, http.StatusServiceUnavailable, r.status, r.raw)
	require.Equal(t, "STORE_UNAVAILABLE", r.body["details"].([]any)[0].(map[string]any)["reason"])
	_, err = catalog.GetService(ctx, &cairnv1.GetServiceRequest{Name: "services/orders-service"})
	require.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	p.waitHealth(t, healthpb.HealthCheckResponse_NOT_SERVING)
	require.Equal(t, http.StatusServiceUnavailable, p.rest(t, "GET", "/readyz", nil).status)

	pg.Start(t)
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	require.Equal(t, http.StatusOK, p.rest(t, "GET", "/readyz", nil).status)
	require.Eventually(t, func() bool {
		r = p.rest(t, "GET", "/v1/services/orders-service", nil)
		return r.status == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "reads did not recover: %s", r.raw)
	require.Equal(t, etag, r.body["etag"], "the service is as it was before the outage")
	_, err = catalog.RegisterService(ctx, &cairnv1.RegisterServiceRequest{Source: &cairnv1.RegisterServiceRequest_Service{
		Service: &cairnv1.Service{Name: "services/after-outage", Type: "service", Lifecycle: "production", Owner: "team-orders"},
	}})
	require.NoError(t, err)

	t.Run("CairnStartedBeforeItsDatabaseWaitsForIt", func(t *testing.T) {
		require.NoError(t, p.stop(t))
		pg.Stop(t)
		early := launchCairn(t, storeURL)
		require.Eventually(t, func() bool {
			return strings.Contains(early.logs.String(), "store unreachable; retrying")
		}, 10*time.Second, 50*time.Millisecond)
		pg.Start(t)
		early.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
		resp, err := cairnv1.NewCatalogServiceClient(early.conn).ListServices(ctx, &cairnv1.ListServicesRequest{})
		require.NoError(t, err)
		require.Len(t, resp.GetServices(), 2)
		require.NoError(t, early.stop(t))
	})
}

func TestCairnRefusesToStartWithAuthenticationRequiredAndNothingToCheckItWith(t *testing.T) {
	cmd := exec.Command(cairnBinary, "serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--store", "sqlite:"+filepath.Join(t.TempDir(), "cairn.db"))
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "no tokens or backstage.jwksUrl are configured")
}

func TestMutationsAreAuditedAndListedForAdmins(t *testing.T) {
	p := startCairn(t, engines[0].storeURL(t))
	body, err := os.ReadFile("../../deploy/examples/register-orders-service.json")
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "http://"+p.httpAddr+"/v1/services:register", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Request-Id", "e2e-request-1")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "e2e-request-1", resp.Header.Get("X-Request-Id"))

	r := p.rest(t, "GET", "/v1/auditEvents?action=cairn.v1.CatalogService/RegisterService", nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	events := r.body["auditEvents"].([]any)
	require.Len(t, events, 1)
	event := events[0].(map[string]any)
	require.Equal(t, "e2e-admin", event["principal"])
	require.Equal(t, "services/orders-service", event["target"])
	require.Equal(t, "e2e-request-1", event["requestId"])
	require.Equal(t, "succeeded", event["outcome"])
	require.Equal(t, "OK", event["code"])
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, and
// returns their paths and a pool that trusts the certificate.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cairn"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestBothPortsServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSignedCert(t)
	p := launchCairn(t, engines[0].storeURL(t), "--tls-cert-file", certFile, "--tls-key-file", keyFile)
	tlsConfig := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)), grpc.WithPerRPCCredentials(bearer{}))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	p.conn = conn
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	_, err = cairnv1.NewCatalogServiceClient(conn).ListServices(context.Background(), &cairnv1.ListServicesRequest{})
	require.NoError(t, err)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	req, err := http.NewRequest(http.MethodGet, "https://"+p.httpAddr+"/v1/services", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	plain, err := http.Get("http://" + p.httpAddr + "/healthz")
	require.NoError(t, err)
	plain.Body.Close()
	require.Equal(t, http.StatusBadRequest, plain.StatusCode, "plain HTTP is refused on a TLS port")
}
