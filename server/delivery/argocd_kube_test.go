package delivery

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// countingRecorder counts the deployments an intake hands the recorder.
type countingRecorder struct {
	DeploymentRecorder
	calls atomic.Int64
}

func (r *countingRecorder) RecordDeployment(ctx context.Context, d store.Deployment) (bool, error) {
	r.calls.Add(1)
	return r.DeploymentRecorder.RecordDeployment(ctx, d)
}

// TestIntakeCountsEveryDeploymentOfARecreatedApplicationOnce deletes a
// service's production Application after three deployments and applies it
// again, as Cairn's reconciler does at once; Argo CD numbers the new one's
// history from 0. Every deployment is counted once: the new Application's
// too, and none twice when a new leader reads every history again.
func TestIntakeCountsEveryDeploymentOfARecreatedApplicationOnce(t *testing.T) {
	env := kubetest.Shared(t)
	settings := manifest.DefaultSettings()
	cluster, err := kube.NewCluster(env.Config(), settings)
	require.NoError(t, err)
	kubetest.RunCluster(t, cluster)

	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			st := engine.open(t)
			service := "intake-" + engine.name
			addService(t, st, service, "team-orders")
			recorder := &countingRecorder{DeploymentRecorder: New(st, NewPrometheus(prometheus.NewRegistry()), DefaultEventWindow, entityref.Teams{}, []string{"production"})}
			var app *unstructured.Unstructured
			for _, obj := range manifest.Objects(manifest.Plan{Service: service, Team: "team-orders", Namespace: "team-orders",
				RepositoryURL: "https://git.example/orders.git", Environments: []string{"production"}}, settings) {
				if obj.GetKind() == manifest.KindApplication {
					app = obj
				}
			}
			require.NotNil(t, app)
			applications := env.Dynamic().Resource(manifest.ApplicationKind.GroupVersionResource()).Namespace(app.GetNamespace())
			t.Cleanup(func() { _ = applications.Delete(context.Background(), app.GetName(), metav1.DeleteOptions{}) })
			// cachedUID waits until the cache holds the Application as
			// the API server does, and returns its uid.
			cachedUID := func() types.UID {
				t.Helper()
				onCluster := env.Application(t, app.GetName())
				require.Eventually(t, func() bool {
					apps, _ := cluster.Objects(service)
					return len(apps) == 1 && apps[0].GetResourceVersion() == onCluster.GetResourceVersion()
				}, 10*time.Second, 20*time.Millisecond)
				return onCluster.GetUID()
			}
			// requireCounted waits until the store counts want deployments.
			requireCounted := func(want int64) {
				t.Helper()
				require.EventuallyWithT(t, func(c *assert.CollectT) {
					facts, err := st.DeliveryFacts(t.Context(), []string{service}, []string{"production"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
					require.NoError(c, err)
					var got int64
					for _, day := range facts.Days {
						got += day.Succeeded + day.Failed
					}
					assert.Equal(c, want, got, "deployments the store counts")
				}, 20*time.Second, 50*time.Millisecond)
			}
			runIntake := func() (stop func()) {
				intake := NewArgoCDIntake(cluster, recorder, slog.New(slog.DiscardHandler))
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Go(func() { intake.Run(ctx) })
				stop = func() { cancel(); wg.Wait() }
				t.Cleanup(stop)
				return stop
			}

			require.NoError(t, cluster.Apply(t.Context(), app))
			stop := runIntake()
			for _, revision := range []string{"r1", "r2", "r3"} {
				env.MarkApplicationSynced(t, app.GetName(), revision)
			}
			requireCounted(3)

			first := cachedUID()
			require.NoError(t, applications.Delete(t.Context(), app.GetName(), metav1.DeleteOptions{}))
			require.Eventually(t, func() bool {
				apps, _ := cluster.Objects(service)
				return len(apps) == 0
			}, 10*time.Second, 20*time.Millisecond)
			require.NoError(t, cluster.Apply(t.Context(), app))
			require.NotEqual(t, first, cachedUID(), "the Application was made again")
			for _, revision := range []string{"r4", "r5"} {
				env.MarkApplicationSynced(t, app.GetName(), revision)
			}
			history, _, _ := unstructured.NestedSlice(env.Application(t, app.GetName()).Object, "status", "history")
			require.Len(t, history, 2, "Argo CD numbers the new Application's history from 0")
			requireCounted(5)

			// A new leader reads every history again: the new
			// Application's two entries, which the store has.
			stop()
			calls := recorder.calls.Load()
			runIntake()
			require.Eventually(t, func() bool { return recorder.calls.Load() == calls+2 }, 10*time.Second, 20*time.Millisecond)
			requireCounted(5)
		})
	}
}
