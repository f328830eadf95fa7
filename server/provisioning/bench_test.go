package provisioning

// Benchmarks on a real kube-apiserver (envtest): status reads from the
// informer cache beside the same objects fetched from the API server, and
// the time from a create to all of its objects applied. Results and how to
// reproduce them are in BENCHMARKS.md.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store/sqlite"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// benchProvisioner is a Provisioner on the shared envtest API server with
// its reconciler running, and the context of an admin.
func benchProvisioner(b *testing.B) (*Provisioner, *kubetest.Env, context.Context) {
	b.Helper()
	env := kubetest.Shared(b)
	env.CreateNamespace(b, "team-bench")
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "cairn.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	cluster, err := kube.NewCluster(env.Config(), manifest.DefaultSettings())
	if err != nil {
		b.Fatal(err)
	}
	kubetest.RunCluster(b, cluster)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := New(st, cluster, manifest.DefaultSettings(), entityref.Teams{}, NewMetrics(prometheus.NewRegistry()), logger)
	go p.Run(ctx)
	admin := auth.NewContext(ctx, &auth.Principal{Name: "bench", Roles: []auth.Role{auth.RoleAdmin}, AllTeams: true})
	return p, env, admin
}

func benchRequest(name string) Request {
	return Request{
		Name: name, Owner: "team-bench", Template: "node-microservice",
		Database: "postgresql", DatabaseSize: "small", Bucket: true,
		Environments:  []string{"staging", "production"},
		RepositoryURL: "https://github.com/company/" + name + ".git",
	}
}

// waitApplied waits until the informers hold all four of a service's
// objects, polling finely so that the wait adds little to what it measures.
func waitApplied(b *testing.B, p *Provisioner, service string) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		apps, claims := p.cluster.Objects(service)
		if len(apps)+len(claims) == 4 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("%s was not applied within 30s", service)
}

func BenchmarkStatusRead(b *testing.B) {
	p, env, ctx := benchProvisioner(b)
	const service = "bench-status"
	if _, err := p.Create(ctx, benchRequest(service)); err != nil {
		b.Fatal(err)
	}
	waitApplied(b, p, service)
	prov, err := p.store.GetProvisioning(ctx, service)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("informer-cache", func(b *testing.B) {
		for b.Loop() {
			prov, snap, err := p.Status(ctx, service)
			if err != nil {
				b.Fatal(err)
			}
			statusOf(prov, snap, manifest.DefaultSettings())
		}
	})

	// The same objects, fetched from the API server on every read, as a
	// status endpoint without informers would.
	client := env.Dynamic()
	objects := manifest.Objects(p.plan(service, prov.Spec), p.settings)
	kinds := map[string]manifest.Kind{}
	for _, kind := range manifest.Kinds(p.settings) {
		kinds[kind.Kind] = kind
	}
	b.Run("direct-get", func(b *testing.B) {
		for b.Loop() {
			var snap Snapshot
			for _, obj := range objects {
				got, err := client.Resource(kinds[obj.GetKind()].GroupVersionResource()).Namespace(obj.GetNamespace()).
					Get(ctx, obj.GetName(), metav1.GetOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if kinds[obj.GetKind()].Claim {
					snap.Claims = append(snap.Claims, got)
				} else {
					snap.Applications = append(snap.Applications, got)
				}
			}
			statusOf(prov, snap, manifest.DefaultSettings())
		}
	})
}

// BenchmarkCreateToApplied measures, per create, the time from the call
// returning to all of the service's objects applied and seen by the
// informers, and reports its median and 95th percentile.
func BenchmarkCreateToApplied(b *testing.B) {
	p, _, ctx := benchProvisioner(b)
	var latencies []time.Duration
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("bench-create-%d-%d", time.Now().UnixNano()%1e6, i)
		i++
		if _, err := p.Create(ctx, benchRequest(name)); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		waitApplied(b, p, name)
		latencies = append(latencies, time.Since(start))
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*95/100].Microseconds())/1000, "p95-ms")
}
