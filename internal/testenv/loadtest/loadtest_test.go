package loadtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/internal/testenv/testnet"
	"github.com/cairn-dev/cairn/server"
)

func TestMain(m *testing.M) { kubetest.Run(func() { pgtest.Main(m) }) }

// adminToken is what the tests call Cairn with; its config holds the hash.
const adminToken = "loadtest-admin-token-5d0c2e"

// smokeFleet is a fleet small enough to seed in a second.
var smokeFleet = Fleet{Services: 40, Prefix: "smoke", Teams: 2, DeploymentsPerService: 2}

// TestLoadGeneratorMeasuresEveryCallOverBothProtocols seeds a small fleet
// into a real Cairn (SQLite, a real API server, authentication on), runs a
// short paced load over REST and gRPC, and checks that every call of the
// mix was made and answered, and that the report has the figures.
func TestLoadGeneratorMeasuresEveryCallOverBothProtocols(t *testing.T) {
	env := kubetest.Shared(t)
	for team := range smokeFleet.Teams {
		env.CreateNamespace(t, TeamName(team))
	}
	target := startInProcess(t, "sqlite:"+filepath.Join(t.TempDir(), "cairn.db"), env.Kubeconfig(t))

	client, err := target.NewClient("grpc")
	require.NoError(t, err)
	defer client.Close()
	now := time.Now()
	require.NoError(t, Seed(t.Context(), client, smokeFleet, 4, now, slog.New(slog.DiscardHandler)))
	requireSeeded(t, target, now)

	var report bytes.Buffer
	phases, err := Measure(t.Context(), Measurement{
		Target:    target,
		Protocols: []string{"rest", "grpc"},
		Profile: Profile{
			Fleet: smokeFleet, Mix: Mix{CallCost: 3, CallStatus: 3, CallDora: 3, CallCreate: 1, CallDeploy: 1},
			Rate: 40, Workers: 4, Warmup: 500 * time.Millisecond, Duration: 2 * time.Second, Run: "smk",
		},
		SampleEvery: 500 * time.Millisecond,
	}, &report)
	require.NoError(t, err)

	require.Len(t, phases, 2)
	for _, phase := range phases {
		calls := map[string]Result{}
		for _, r := range phase.Results {
			require.Empty(t, r.Errors, "%s %s", phase.Protocol, r.Call)
			calls[r.Call] = r
		}
		for _, call := range []string{"cost", "status", "dora", "reads"} {
			require.Positive(t, calls[call].Succeeded, "%s %s", phase.Protocol, call)
			require.Positive(t, calls[call].P50, "%s %s", phase.Protocol, call)
			require.GreaterOrEqual(t, calls[call].P99, calls[call].P50)
		}
		peak, last := Peak(phase.Samples)
		require.Positive(t, peak.RSS)
		require.Positive(t, last.Goroutines)
	}
	for _, line := range []string{"| rest | reads |", "| grpc | cost |", "resident memory peak", "entity-page reads, REST / gRPC"} {
		require.Contains(t, report.String(), line)
	}
}

// requireSeeded checks what the seed left: a provisioned service with its
// status, a billed service with billed lines, DORA with deployments.
func requireSeeded(t *testing.T, target Target, now time.Time) {
	t.Helper()
	client, err := GRPCClient(target.GRPCAddr, target.Token, 1)
	require.NoError(t, err)
	defer client.Close()
	conn := client.(*grpcClient).conn()
	ctx := t.Context()

	status, err := cairnv1.NewProvisioningServiceClient(conn).GetServiceStatus(ctx,
		&cairnv1.GetServiceStatusRequest{Name: "services/" + smokeFleet.Name(0)})
	require.NoError(t, err)
	require.Equal(t, smokeFleet.Name(0), status.GetService())

	cost, err := cairnv1.NewCostServiceClient(conn).GetServiceCost(ctx,
		&cairnv1.GetServiceCostRequest{Name: "services/" + smokeFleet.Name(1)})
	require.NoError(t, err)
	require.NotEmpty(t, cost.GetBreakdown())
	for _, line := range cost.GetBreakdown() {
		require.Equal(t, "billed", line.GetSource())
	}
	if now.UTC().Day() > 1 { // on the 1st, this month has no billed day yet
		require.Positive(t, cost.GetTotalMonthlyCost())
	}
	require.Positive(t, cost.GetPreviousMonthlyCost())

	produced := 0
	for i := range smokeFleet.Services {
		dora, err := cairnv1.NewMetricsServiceClient(conn).GetServiceDora(ctx,
			&cairnv1.GetServiceDoraRequest{Name: "services/" + smokeFleet.Name(i)})
		require.NoError(t, err)
		produced += int(dora.GetDora().GetDeploymentFrequency().GetSampleCount())
	}
	require.Positive(t, produced, "no successful production deployment in any 30-day window")
}

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Mix
		wantErr string
	}{
		{in: "cost=2,status=1", want: Mix{CallCost: 2, CallStatus: 1}},
		{in: "cost=1, deploy=0", want: Mix{CallCost: 1, CallDeploy: 0}},
		{in: "cost", wantErr: "want call=weight"},
		{in: "cost=-1", wantErr: "want call=weight"},
		{in: "read=1", wantErr: "unknown call"},
		{in: "cost=0", wantErr: "every weight is 0"},
	} {
		mix, err := ParseMix(tc.in)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, mix, tc.in)
	}
}

func TestPercentilesAreNearestRank(t *testing.T) {
	rec := NewRecorder()
	for ms := 1; ms <= 100; ms++ {
		rec.Observe("grpc", CallCost, time.Duration(ms)*time.Millisecond, nil)
	}
	rec.Observe("grpc", CallCost, 0, &CallError{Code: 14})
	results := rec.Results(10 * time.Second)
	require.Len(t, results, 2) // cost, and the reads together
	cost := results[0]
	require.Equal(t, 100, cost.Succeeded)
	require.InDelta(t, 10, cost.PerSecond, 1e-9)
	require.Equal(t, 50*time.Millisecond, cost.P50)
	require.Equal(t, 99*time.Millisecond, cost.P99)
	require.Equal(t, 100*time.Millisecond, cost.Max)
	require.Equal(t, map[string]int{"Unavailable": 1}, cost.Errors)
}

func TestParseMetricsReadsUnlabelledSamples(t *testing.T) {
	text := "# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 42\n" +
		"go_gc_duration_seconds{quantile=\"0.5\"} 1e-05\nprocess_resident_memory_bytes 1.2345e+08\n"
	got, err := parseMetrics(strings.NewReader(text), "go_goroutines", "process_resident_memory_bytes")
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"go_goroutines": 42, "process_resident_memory_bytes": 1.2345e8}, got)

	_, err = parseMetrics(strings.NewReader(text), "go_threads")
	require.ErrorContains(t, err, "no go_threads")
}

func TestWriteFocusBillsEveryResourceOfEveryBilledServiceDaily(t *testing.T) {
	fleet := Fleet{Services: 20, Prefix: "bill", Teams: 1}
	now := time.Date(2031, 3, 4, 15, 0, 0, 0, time.UTC)
	var file bytes.Buffer
	rows, err := writeFocus(&file, fleet, now)
	require.NoError(t, err)
	billed := 8    // 1-4 and 11-14
	days := 28 + 3 // February 2031, then 1 to 3 March
	require.Equal(t, billed*resourcesPerBilledService*days, rows)
	lines := strings.Split(strings.TrimSpace(file.String()), "\n")
	require.Len(t, lines, rows+1)
	require.Contains(t, lines[1], "2031-02-01T00:00:00Z,2031-02-02T00:00:00Z,Usage")
	require.Contains(t, lines[1], `"{""app.kubernetes.io/name"":""bill-00001""}"`)
	require.Contains(t, lines[len(lines)-1], "2031-03-03T00:00:00Z,2031-03-04T00:00:00Z")
}

// startInProcess runs Cairn in this process, as `cairn serve` does, with
// authentication on and one admin token, on free ports, until t ends.
func startInProcess(t *testing.T, storeURL, kubeconfig string) Target {
	t.Helper()
	sum := sha256.Sum256([]byte(adminToken))
	config := filepath.Join(t.TempDir(), "cairn.yaml")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil,
		"auth:\n  mode: required\n  tokens:\n    - name: load\n      sha256: %s\n      roles: [admin]\n",
		hex.EncodeToString(sum[:])), 0o600))
	httpAddr, grpcAddr := testnet.FreeAddr(t), testnet.FreeAddr(t)
	// A Lease of the test's own, apart from other tests on the shared API
	// server.
	const leaseNamespace = "loadtest"
	kubetest.Shared(t).CreateNamespace(t, leaseNamespace)
	cfg, err := server.LoadConfig([]string{"--config", config, "--store", storeURL, "--kubeconfig", kubeconfig,
		"--lease-namespace", leaseNamespace, "--http-addr", httpAddr, "--grpc-addr", grpcAddr, "--rate-limit", "0"},
		func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	target := Target{RESTURL: "http://" + httpAddr, GRPCAddr: grpcAddr, Token: adminToken, RESTConns: 4, GRPCConns: 1}
	require.Eventually(t, func() bool { return target.Ready(ctx) },
		30*time.Second, 20*time.Millisecond, "Cairn did not become ready")
	return target
}
