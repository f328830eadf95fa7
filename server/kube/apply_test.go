package kube_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// patchCounter counts the PATCH requests (server-side applies) a client
// sends.
type patchCounter struct {
	next    http.RoundTripper
	patches atomic.Int64
}

func (c *patchCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch {
		c.patches.Add(1)
	}
	return c.next.RoundTrip(r)
}

func TestApplyCallsNothingWhenTheClusterHoldsWhatCairnLastApplied(t *testing.T) {
	env := kubetest.Start(t)
	env.CreateNamespace(t, "team-orders")
	settings := manifest.DefaultSettings()
	config := env.Config()
	counter := &patchCounter{}
	config.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter }
	cluster, err := kube.NewCluster(config, settings)
	require.NoError(t, err)
	kubetest.RunCluster(t, cluster)

	plan := manifest.Plan{Service: "orders", Team: "team-orders", Namespace: "team-orders", Database: "postgresql", DatabaseSize: "small"}
	claim := manifest.DatabaseClaim(plan, settings)
	claims := env.Dynamic().Resource(manifest.DatabaseClaimKind(settings).GroupVersionResource()).Namespace("team-orders")
	cached := func() *unstructured.Unstructured {
		_, list := cluster.Objects("orders")
		if len(list) == 0 {
			return nil
		}
		return list[0]
	}
	// applyOnceCached applies the claim and waits until the cache shows the
	// cluster's answer, as a resync a minute later would find it.
	applyOnceCached := func() {
		t.Helper()
		require.NoError(t, cluster.Apply(t.Context(), claim))
		onCluster, err := claims.Get(t.Context(), claim.GetName(), metav1.GetOptions{})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			c := cached()
			return c != nil && c.GetResourceVersion() == onCluster.GetResourceVersion()
		}, 10*time.Second, 20*time.Millisecond)
	}

	applyOnceCached()
	require.EqualValues(t, 1, counter.patches.Load())
	require.NoError(t, cluster.Apply(t.Context(), claim))
	require.EqualValues(t, 1, counter.patches.Load(), "applying the same claim again called the API server")

	// A spec edited by hand moves the generation: Cairn applies over it.
	_, err = claims.Patch(t.Context(), claim.GetName(), types.MergePatchType, []byte(`{"spec":{"size":"large"}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return cached().GetGeneration() == 2 }, 10*time.Second, 20*time.Millisecond)
	applyOnceCached()
	require.EqualValues(t, 2, counter.patches.Load())
	restored, err := claims.Get(t.Context(), claim.GetName(), metav1.GetOptions{})
	require.NoError(t, err)
	size, _, _ := unstructured.NestedString(restored.Object, "spec", "size")
	require.Equal(t, "small", size)

	// A label removed by hand does not move the generation; Cairn puts it back.
	_, err = claims.Patch(t.Context(), claim.GetName(), types.MergePatchType, []byte(`{"metadata":{"labels":{"team":null}}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return cached().GetLabels()[manifest.LabelTeam] == "" }, 10*time.Second, 20*time.Millisecond)
	applyOnceCached()
	require.EqualValues(t, 3, counter.patches.Load())
	require.Equal(t, "team-orders", cached().GetLabels()[manifest.LabelTeam])

	// A changed claim is applied.
	plan.DatabaseSize = "medium"
	claim = manifest.DatabaseClaim(plan, settings)
	applyOnceCached()
	require.EqualValues(t, 4, counter.patches.Load())
}

func TestApplysRecordForgetsObjectsDeletedFromTheCluster(t *testing.T) {
	env := kubetest.Start(t)
	env.CreateNamespace(t, "team-orders")
	settings := manifest.DefaultSettings()
	cluster, err := kube.NewCluster(env.Config(), settings)
	require.NoError(t, err)
	kubetest.RunCluster(t, cluster)

	for i := range 5 {
		plan := manifest.Plan{Service: fmt.Sprintf("orders-%d", i), Team: "team-orders", Namespace: "team-orders",
			RepositoryURL: "https://git.example/orders.git", Database: "postgresql", DatabaseSize: "small", Bucket: true,
			Environments: []string{"staging", "production"}}
		objects := manifest.Objects(plan, settings)
		for _, obj := range objects {
			require.NoError(t, cluster.Apply(t.Context(), obj))
		}
		require.Equal(t, len(objects), cluster.AppliedCount(), "cycle %d", i)
		require.Eventually(t, func() bool {
			apps, claims := cluster.Objects(plan.Service)
			return len(apps)+len(claims) == len(objects)
		}, 10*time.Second, 20*time.Millisecond, "cycle %d: the cache did not see the objects", i)

		// Half are pruned by Cairn, half deleted by someone else, which
		// Cairn learns of from its informers.
		for j, obj := range objects {
			if j%2 == 0 {
				require.NoError(t, cluster.Delete(t.Context(), obj))
				continue
			}
			var gvr schema.GroupVersionResource
			for _, kind := range manifest.Kinds(settings) {
				if kind.GroupVersionKind == obj.GroupVersionKind() {
					gvr = kind.GroupVersionResource()
				}
			}
			require.NoError(t, env.Dynamic().Resource(gvr).Namespace(obj.GetNamespace()).Delete(t.Context(), obj.GetName(), metav1.DeleteOptions{}))
		}
		require.Eventually(t, func() bool { return cluster.AppliedCount() == 0 }, 10*time.Second, 20*time.Millisecond,
			"cycle %d: Apply's record keeps %d deleted objects", i, cluster.AppliedCount())
	}
}
