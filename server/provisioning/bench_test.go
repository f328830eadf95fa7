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
	cluster, err := kube.NewCluster(env.Config(), manifest.DefaultSettings())
	if err != nil {
		b.Fatal(err)
	}
	kubetest.RunCluster(b, cluster)
	one, err := kube.NewClusters(manifest.DefaultSettings(), "", cluster)
	if err != nil {
		b.Fatal(err)
	}
	p, ctx := benchProvisionerOn(b, one, manifest.DefaultSettings())
	return p, env, ctx
}

// benchThreeClusters is a Provisioner on three API servers, the shared one
// holding the claims and staging's Application and two more holding one
// production environment each, as benchRequestAcross deploys to.
func benchThreeClusters(b *testing.B) (*Provisioner, context.Context) {
	b.Helper()
	settings := manifest.DefaultSettings()
	settings.Environments = []manifest.Environment{
		{Name: "staging", Cluster: "management"},
		{Name: "production-eu", Cluster: "eu", Sync: manifest.SyncPromotion, Promotion: &manifest.Promotion{From: "staging"}},
		{Name: "production-us", Cluster: "us", Sync: manifest.SyncPromotion, Promotion: &manifest.Promotion{From: "staging"}},
	}
	var clusters []*kube.Cluster
	for i, name := range []string{"management", "eu", "us"} {
		env := kubetest.Shared(b)
		if i > 0 {
			env = kubetest.Start(b)
		}
		cluster, err := kube.NewClusterWatching(name, env.Config(), settings, kube.Watch{Applications: true, Claims: i == 0})
		if err != nil {
			b.Fatal(err)
		}
		kubetest.RunCluster(b, cluster)
		clusters = append(clusters, cluster)
	}
	all, err := kube.NewClusters(settings, "management", clusters...)
	if err != nil {
		b.Fatal(err)
	}
	return benchProvisionerOn(b, all, settings)
}

func benchProvisionerOn(b *testing.B, cluster Cluster, settings manifest.Settings) (*Provisioner, context.Context) {
	b.Helper()
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
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := New(st, cluster, settings, entityref.Teams{}, NewMetrics(prometheus.NewRegistry()), logger)
	go p.Run(ctx)
	admin := auth.NewContext(ctx, &auth.Principal{Name: "bench", Roles: []auth.Role{auth.RoleAdmin}, AllTeams: true})
	return p, admin
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
// objects.
func waitApplied(b *testing.B, p *Provisioner, service string) { waitObjects(b, p, service, 4) }

// waitObjects waits until the informers hold n objects of a service,
// polling finely so that the wait adds little to what it measures.
func waitObjects(b *testing.B, p *Provisioner, service string, n int) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		apps, claims := p.cluster.Objects(service)
		if len(apps)+len(claims) == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("%s was not applied within 30s", service)
}

// benchRequestAcross is benchRequest deployed to the three environments of
// benchThreeClusters.
func benchRequestAcross(name string) Request {
	r := benchRequest(name)
	r.Environments = []string{"staging", "production-eu", "production-us"}
	return r
}

// BenchmarkStatusReadThreeClusters is BenchmarkStatusRead's informer-cache
// read with a service's Applications on three clusters.
func BenchmarkStatusReadThreeClusters(b *testing.B) {
	p, ctx := benchThreeClusters(b)
	const service = "bench-status-across"
	if _, err := p.Create(ctx, benchRequestAcross(service)); err != nil {
		b.Fatal(err)
	}
	waitObjects(b, p, service, 5)
	for b.Loop() {
		prov, snap, err := p.Status(ctx, service)
		if err != nil {
			b.Fatal(err)
		}
		statusOf(prov, snap, p.settings)
	}
}

// BenchmarkCreateToAppliedThreeClusters is BenchmarkCreateToApplied with
// the service's objects going to three clusters.
func BenchmarkCreateToAppliedThreeClusters(b *testing.B) {
	p, ctx := benchThreeClusters(b)
	benchCreateToApplied(b, p, ctx, benchRequestAcross, 5)
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
	benchCreateToApplied(b, p, ctx, benchRequest, 4)
}

// benchCreateToApplied creates services of request and reports the median
// and 95th percentile of the time until their n objects are applied.
func benchCreateToApplied(b *testing.B, p *Provisioner, ctx context.Context, request func(string) Request, n int) {
	var latencies []time.Duration
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("bench-create-%d-%d", time.Now().UnixNano()%1e6, i)
		i++
		if _, err := p.Create(ctx, request(name)); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		waitObjects(b, p, name, n)
		latencies = append(latencies, time.Since(start))
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*95/100].Microseconds())/1000, "p95-ms")
}
