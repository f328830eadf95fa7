package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube"
)

// upload is a FOCUS import over REST whose body the test sends as it
// chooses, so that the call is in flight when the server stops.
type upload struct {
	body *io.PipeWriter
	done chan uploadResult
}

type uploadResult struct {
	status int
	body   string
	err    error
}

const focusHeader = "BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ServiceName,ServiceCategory,Tags,RegionId\n"

func focusRow(resource string) string {
	return fmt.Sprintf("1.25,1.25,1.25,USD,2026-11-03T00:00:00Z,2026-11-04T00:00:00Z,Usage,%s,Amazon RDS,Databases,\"{}\",us-east-1\n", resource)
}

func startUpload(t *testing.T, r *running, client *http.Client, source string) *upload {
	t.Helper()
	body, w := io.Pipe()
	u := &upload{body: w, done: make(chan uploadResult, 1)}
	req, err := http.NewRequest(http.MethodPost, "http://"+r.cfg.HTTPAddr+"/v1/costs:importFocus?source="+source, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+runAdminToken)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			u.done <- uploadResult{err: err}
			return
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		u.done <- uploadResult{status: resp.StatusCode, body: string(out), err: err}
	}()
	t.Cleanup(func() { w.CloseWithError(io.ErrUnexpectedEOF) })
	_, err = io.WriteString(w, focusHeader+focusRow(source+"-first"))
	require.NoError(t, err)
	return u
}

func (u *upload) finish(t *testing.T, source string) uploadResult {
	t.Helper()
	_, err := io.WriteString(u.body, focusRow(source+"-second"))
	require.NoError(t, err)
	require.NoError(t, u.body.Close())
	return <-u.done
}

func TestShutdownEndsWatchesFinishesRESTCallsAndReleasesTheLeaseAfterReconcilingThenClosesTheStore(t *testing.T) {
	env := kubetest.Start(t)
	env.CreateNamespace(t, "team-orders")
	r := runServer(t, func(cfg *Config) {
		cfg.Kubernetes.Kubeconfig = env.Kubeconfig(t)
		// Long enough that a drain held to its end would show in the log.
		cfg.ShutdownTimeout = 2 * time.Minute
	})
	require.Eventually(t, func() bool { return strings.Contains(r.logs.String(), "leading: reconciling") },
		60*time.Second, 50*time.Millisecond, "this only replica did not lead")
	client := r.httpClient(t, honest)
	client.Transport.(*http.Transport).MaxConnsPerHost = 0 // calls at once

	create, err := http.NewRequest(http.MethodPost, "http://"+r.cfg.HTTPAddr+"/v1/services", strings.NewReader(`{
  "name": "orders", "owner": "group:default/team-orders", "template": "node-microservice",
  "database": "postgresql", "databaseSize": "small", "environments": ["staging"],
  "repositoryUrl": "https://github.com/company/orders.git", "requestId": "create-orders"}`))
	require.NoError(t, err)
	create.Header.Set("Authorization", "Bearer "+runAdminToken)
	resp, err := client.Do(create)
	require.NoError(t, err)
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(created))

	// Watches of the service over gRPC and REST, each past its first
	// status.
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+runAdminToken)
	grpcWatch, err := cairnv1.NewProvisioningServiceClient(r.dial(t, honest)).
		WatchServiceStatus(ctx, &cairnv1.WatchServiceStatusRequest{Name: "services/orders"})
	require.NoError(t, err)
	_, err = grpcWatch.Recv()
	require.NoError(t, err)
	watchReq, err := http.NewRequest(http.MethodGet, "http://"+r.cfg.HTTPAddr+"/v1/services/orders/status:watch", nil)
	require.NoError(t, err)
	watchReq.Header.Set("Authorization", "Bearer "+runAdminToken)
	restWatch, err := client.Do(watchReq)
	require.NoError(t, err)
	defer restWatch.Body.Close()
	require.Equal(t, http.StatusOK, restWatch.StatusCode)
	restLines := bufio.NewReader(restWatch.Body)
	first, err := restLines.ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, first, `"result"`)

	// Two uploads under way: the server has begun both calls.
	uploads := map[string]*upload{"billing-a": startUpload(t, r, client, "billing-a"), "billing-b": startUpload(t, r, client, "billing-b")}
	require.Eventually(t, func() bool {
		return r.metric(t, client, "grpc_server_started_total",
			`grpc_method="ImportFocusCsv",grpc_service="cairn.v1.CostService",grpc_type="client_stream"`) == 2
	}, 30*time.Second, 20*time.Millisecond)

	r.stop()

	// The watches end, over both ports, while the uploads are still open.
	_, err = grpcWatch.Recv()
	for err == nil { // changes sent before the end
		_, err = grpcWatch.Recv()
	}
	require.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "shutting down")
	restBody, err := io.ReadAll(restLines)
	rest := string(restBody)
	require.NoError(t, err, "the REST watch ends")
	var last struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	lines := strings.Split(strings.TrimSpace(rest), "\n")
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last), rest)
	require.Equal(t, int(codes.Unavailable), last.Error.Code, "%q", rest)

	// The uploads finish, and are imported.
	for source, u := range uploads {
		result := u.finish(t, source)
		require.NoError(t, result.err)
		require.Equal(t, http.StatusOK, result.status, result.body)
		require.Contains(t, result.body, `"rowCount":"2"`)
	}

	require.NoError(t, r.shutDown(t))
	logs := r.logs.String()
	require.NotContains(t, logs, "at the shutdown timeout", "nothing held the drain to its end")

	// The Lease is free for another replica at once.
	admin, err := kubernetes.NewForConfig(env.Config())
	require.NoError(t, err)
	lease, err := admin.CoordinationV1().Leases(r.cfg.Kubernetes.LeaseNamespace).Get(t.Context(), kube.LeaseName, metav1.GetOptions{})
	require.NoError(t, err)
	holder := ""
	if lease.Spec.HolderIdentity != nil {
		holder = *lease.Spec.HolderIdentity
	}
	require.Empty(t, holder, "the lease names no holder")

	// In order: reconciling stopped, then the lease was released, then
	// the store closed, the last thing Run did.
	stopped := strings.Index(logs, `msg="reconciling stopped"`)
	released := strings.Index(logs, `msg="lease released"`)
	closed := strings.Index(logs, `msg="store closed"`)
	require.NotEqual(t, -1, stopped, logs)
	require.Greater(t, released, stopped, "the lease is released after reconciling stopped")
	require.Greater(t, closed, released, "the store closes after the lease is released")
	logLines := strings.Split(strings.TrimSpace(logs), "\n")
	require.Contains(t, logLines[len(logLines)-1], `msg="store closed"`, "the store closes last")
}
