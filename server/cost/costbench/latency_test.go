package costbench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/internal/testenv/testnet"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// The catalog the latency benchmark reads: catalogServices services, of
// which, by their number modulo 10, 0-4 have imported billing for
// billedMonth and the month before (0 also a provisioning, which billing
// wins over), 5-8 have a provisioning only (a PostgreSQL and a bucket, so
// estimated lines) and 9 nothing to cost.
const (
	catalogServices     = 10_000
	resourcesPerBilled  = 3
	billedMonth         = "2031-05"
	latencyClients      = 4
	benchToken          = "costbench-viewer-token"
	benchTokenPrincipal = "costbench"
)

// BenchmarkServiceCost measures the cost card's latency, GET
// /v1/services/{name}/cost through the HTTP gateway, and GetServiceCost
// over gRPC, against the real server on each store engine, configured as
// by default but for rate limiting, which is off: authentication,
// validation, logging and metrics as in production. latencyClients clients
// call at once. Each op is one call; it reports the calls' p50, p90 and p99
// latencies and calls per second.
func BenchmarkServiceCost(b *testing.B) {
	for _, engine := range []struct {
		name string
		// seeded returns the URL of a store holding the catalog.
		seeded func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string {
			path := filepath.Join(b.TempDir(), "cairn.db")
			st, err := sqlite.Open(b.Context(), path)
			require.NoError(b, err)
			seedCatalog(b, st)
			return "sqlite:" + path
		}},
		{"postgres", func(b *testing.B) string {
			url := pgtest.Shared(b).NewDatabase(b)
			st, err := postgres.Open(b.Context(), url)
			require.NoError(b, err)
			seedCatalog(b, st)
			return url
		}},
	} {
		b.Run(engine.name, func(b *testing.B) {
			httpAddr, grpcAddr := startServer(b, engine.seeded(b))

			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: latencyClients}}
			checkCards(b, client, httpAddr)
			b.Run("rest", func(b *testing.B) {
				measureLatency(b, func(ctx context.Context, service string) error {
					return getCostCard(ctx, client, httpAddr, service, nil)
				})
			})
			conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithPerRPCCredentials(bearer{}))
			require.NoError(b, err)
			b.Cleanup(func() { conn.Close() })
			costs := cairnv1.NewCostServiceClient(conn)
			b.Run("grpc", func(b *testing.B) {
				measureLatency(b, func(ctx context.Context, service string) error {
					_, err := costs.GetServiceCost(ctx, &cairnv1.GetServiceCostRequest{Name: "services/" + service, Month: billedMonth})
					return err
				})
			})
		})
	}
}

// measureLatency makes b.N calls of call, latencyClients at a time, over
// the catalog's services in a scattered order, and reports their
// latencies.
func measureLatency(b *testing.B, call func(ctx context.Context, service string) error) {
	latencies := make([]time.Duration, b.N)
	var (
		calls atomic.Int64
		wg    sync.WaitGroup
	)
	b.ResetTimer()
	for range latencyClients {
		wg.Go(func() {
			for {
				n := int(calls.Add(1) - 1)
				if n >= b.N {
					return
				}
				start := time.Now()
				if err := call(b.Context(), serviceName(n*7919%catalogServices)); err != nil {
					b.Error(err)
					return
				}
				latencies[n] = time.Since(start)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[b.N/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[b.N*90/100].Microseconds()), "p90-µs")
	b.ReportMetric(float64(latencies[b.N*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(0, "ns/op") // the elapsed time over calls made at once
}

// seedCatalog migrates st and writes the catalog the benchmark reads into
// it, with its billing imported, then closes it.
func seedCatalog(b *testing.B, st store.Store) {
	ctx := b.Context()
	require.NoError(b, st.Migrate(ctx))
	for i := range catalogServices {
		name := serviceName(i)
		svc := &store.Service{Name: name, Type: "service", Lifecycle: "production",
			Owner: fmt.Sprintf("group:default/team-%d", i%50), Team: fmt.Sprintf("team-%d", i%50)}
		switch i % 10 {
		case 0, 5, 6, 7, 8:
			spec := store.ProvisioningSpec{Owner: svc.Owner, Team: svc.Team,
				Database: "postgresql", DatabaseSize: "small", Bucket: true}
			_, _, err := st.CreateProvisioning(ctx, store.Provisioning{Service: name, Spec: spec}, svc)
			require.NoError(b, err)
		default:
			_, _, err := st.UpsertService(ctx, svc, "")
			require.NoError(b, err)
		}
	}
	_, err := st.ReplaceBilling(ctx, "aws-cur", billedRows())
	require.NoError(b, err)
	require.NoError(b, st.Close())
}

// billedRows are the daily charges of the billed services' resources over
// billedMonth and the month before.
func billedRows() func(yield func(store.BillingRow, error) bool) {
	return func(yield func(store.BillingRow, error) bool) {
		month, _ := time.Parse("2006-01", billedMonth)
		categories := []string{"Compute", "Databases", "Storage"}
		for day := month.AddDate(0, -1, 0); day.Before(month.AddDate(0, 1, 0)); day = day.AddDate(0, 0, 1) {
			for i := range catalogServices {
				if i%10 > 4 {
					continue
				}
				for r := range resourcesPerBilled {
					row := store.BillingRow{
						ChargePeriodStart: day, ChargePeriodEnd: day.AddDate(0, 0, 1), ChargeCategory: "Usage",
						Service: serviceName(i), ResourceID: fmt.Sprintf("arn:aws:%s:%s-%d", categories[r], serviceName(i), r),
						ServiceName: "Amazon " + categories[r], ServiceCategory: categories[r], Currency: "USD",
						BilledCost: int64(1_000_000 + i + r*day.Day()), EffectiveCost: int64(900_000 + i + r*day.Day()),
						ListCost: int64(1_200_000 + i),
					}
					if !yield(row, nil) {
						return
					}
				}
			}
		}
	}
}

// startServer runs Cairn in process, as `cairn serve` does, on free ports
// and the store at storeURL, until b ends; it returns once the server is
// healthy.
func startServer(b *testing.B, storeURL string) (httpAddr, grpcAddr string) {
	sum := sha256.Sum256([]byte(benchToken))
	configFile := filepath.Join(b.TempDir(), "cairn.yaml")
	require.NoError(b, os.WriteFile(configFile, fmt.Appendf(nil,
		"auth:\n  mode: required\n  tokens:\n    - name: %s\n      sha256: %s\n      roles: [viewer]\n",
		benchTokenPrincipal, hex.EncodeToString(sum[:])), 0o600))
	httpAddr, grpcAddr = testnet.FreeAddr(b), testnet.FreeAddr(b)
	cfg, err := server.LoadConfig([]string{"--config", configFile, "--store", storeURL,
		"--http-addr", httpAddr, "--grpc-addr", grpcAddr, "--rate-limit", "0"},
		func(string) string { return "" }, io.Discard)
	require.NoError(b, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Logs at the default level, formatted and dropped: a call costs what
	// it costs in production, less the write.
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- server.Run(ctx, cfg, logger) }()
	b.Cleanup(func() {
		cancel()
		require.NoError(b, <-done)
	})

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(b, err)
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	require.Eventually(b, func() bool {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	}, 30*time.Second, 20*time.Millisecond)
	return httpAddr, grpcAddr
}

// bearer sends benchToken with every gRPC call.
type bearer struct{}

func (bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + benchToken}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// costCard is the part of the cost card checkCards looks at.
type costCard struct {
	TotalMonthlyCost    float64 `json:"totalMonthlyCost"`
	PreviousMonthlyCost float64 `json:"previousMonthlyCost"`
	Breakdown           []struct {
		Source string `json:"source"`
	} `json:"breakdown"`
}

// getCostCard gets a service's cost card of billedMonth over REST, into
// card when not nil.
func getCostCard(ctx context.Context, client *http.Client, httpAddr, service string, card *costCard) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://"+httpAddr+"/v1/services/"+service+"/cost?month="+billedMonth, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET cost of %s: %s: %s", service, resp.Status, body)
	}
	if card != nil {
		return json.Unmarshal(body, card)
	}
	return nil
}

// checkCards checks that the catalog's kinds of services cost as seeded:
// billed lines, estimated lines, nothing.
func checkCards(b *testing.B, client *http.Client, httpAddr string) {
	for i, want := range map[int]string{0: "billed", 1: "billed", 5: "estimated", 9: ""} {
		var card costCard
		require.NoError(b, getCostCard(b.Context(), client, httpAddr, serviceName(i), &card))
		if want == "" {
			require.Empty(b, card.Breakdown, serviceName(i))
			continue
		}
		require.NotEmpty(b, card.Breakdown, serviceName(i))
		require.Positive(b, card.PreviousMonthlyCost, serviceName(i))
		for _, line := range card.Breakdown {
			require.Equal(b, want, line.Source, serviceName(i))
		}
	}
}
