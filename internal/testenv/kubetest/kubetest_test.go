package kubetest_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

var settings = manifest.DefaultSettings()

func TestClaimsCairnAppliesBecomeReady(t *testing.T) {
	env := kubetest.Shared(t)
	plan := manifest.Plan{Service: "orders", Team: "payments", Database: "postgresql", Bucket: true}
	env.CreateNamespace(t, plan.Team)
	cluster := startCluster(t, env)
	for _, obj := range manifest.Objects(plan, settings) {
		require.NoError(t, cluster.Apply(t.Context(), obj))
	}
	db, bucket := manifest.DatabaseClaim(plan, settings), manifest.BucketClaim(plan, settings)

	env.MarkClaimCreating(t, db)
	got := env.Get(t, db)
	requireCondition(t, got, "Synced", "True", "ReconcileSuccess")
	requireCondition(t, got, "Ready", "False", "Creating")
	syncedSince := condition(t, got, "Synced")["lastTransitionTime"]
	_, err := time.Parse(time.RFC3339, syncedSince.(string))
	require.NoError(t, err)
	require.EqualValues(t, got.GetGeneration(), condition(t, got, "Ready")["observedGeneration"])

	env.MarkClaimReady(t, db)
	env.MarkClaimReady(t, bucket)
	got = env.Get(t, db)
	requireCondition(t, got, "Ready", "True", "Available")
	require.Equal(t, syncedSince, condition(t, got, "Synced")["lastTransitionTime"],
		"a condition that did not change kept its transition time")
	require.Equal(t, map[string]any{
		"endpoint":   "orders-db.payments.rds.example.com",
		"port":       int64(5432),
		"secretName": manifest.ConnectionSecretName(manifest.DatabaseClaimName("orders")),
	}, pick(got.Object["status"], "endpoint", "port", "secretName"))
	got = env.Get(t, bucket)
	requireCondition(t, got, "Ready", "True", "Available")
	require.Equal(t, "payments-orders-bucket", got.Object["status"].(map[string]any)["bucketName"])

	// Cairn's informers see what the helper wrote.
	require.Eventually(t, func() bool {
		_, claims := cluster.Objects(plan.Service)
		ready := 0
		for _, claim := range claims {
			if c := findCondition(claim, "Ready"); c != nil && c["status"] == "True" {
				ready++
			}
		}
		return ready == 2
	}, 30*time.Second, 50*time.Millisecond)

	// Cairn applying its objects again leaves the controller's status alone.
	require.NoError(t, cluster.Apply(t.Context(), db))
	requireCondition(t, env.Get(t, db), "Ready", "True", "Available")
}

func TestMarkClaimFailed(t *testing.T) {
	env := kubetest.Shared(t)
	plan := manifest.Plan{Service: "cache", Team: "payments", Database: "redis"}
	env.CreateNamespace(t, plan.Team)
	db := manifest.DatabaseClaim(plan, settings)
	cluster := startCluster(t, env)
	require.NoError(t, cluster.Apply(t.Context(), db))

	env.MarkClaimFailed(t, db, `cannot compose resources: no composition for engine "redis"`)
	got := env.Get(t, db)
	requireCondition(t, got, "Synced", "False", "ReconcileError")
	require.Equal(t, `cannot compose resources: no composition for engine "redis"`, condition(t, got, "Synced")["message"])
	require.Nil(t, findCondition(got, "Ready"), "a claim that failed to reconcile has no Ready condition")

	env.MarkClaimReady(t, db)
	got = env.Get(t, db)
	requireCondition(t, got, "Synced", "True", "ReconcileSuccess")
	require.NotContains(t, condition(t, got, "Synced"), "message")
	require.Equal(t, int64(6379), got.Object["status"].(map[string]any)["port"])
}

func TestApplicationSyncs(t *testing.T) {
	env := kubetest.Shared(t)
	plan := manifest.Plan{
		Service: "checkout", Team: "payments", RepositoryURL: "https://git.example.com/payments/checkout.git",
		Environments: []string{manifest.EnvironmentStaging, manifest.EnvironmentProduction},
	}
	cluster := startCluster(t, env)
	for _, obj := range manifest.Objects(plan, settings) {
		require.NoError(t, cluster.Apply(t.Context(), obj))
	}
	staging := manifest.ApplicationName(plan.Service, manifest.EnvironmentStaging)
	production := manifest.ApplicationName(plan.Service, manifest.EnvironmentProduction)

	t.Run("Automated", func(t *testing.T) {
		env.MarkApplicationOutOfSync(t, staging, "a1")
		status := statusOf(t, env.Application(t, staging))
		require.Equal(t, "OutOfSync", at(status, "sync", "status"))
		require.Equal(t, "Missing", at(status, "health", "status"))

		env.MarkApplicationSynced(t, staging, "a1")
		status = statusOf(t, env.Application(t, staging))
		require.Equal(t, "Synced", at(status, "sync", "status"))
		require.Equal(t, "a1", at(status, "sync", "revision"))
		require.Equal(t, "Healthy", at(status, "health", "status"))
		require.Equal(t, "Succeeded", at(status, "operationState", "phase"))
		require.Equal(t, "a1", at(status, "operationState", "syncResult", "revision"))
		require.Equal(t, true, at(status, "operationState", "operation", "initiatedBy", "automated"))
		history := status["history"].([]any)
		require.Len(t, history, 1)
		entry := history[0].(map[string]any)
		require.Equal(t, int64(0), entry["id"])
		require.Equal(t, "a1", entry["revision"])
		require.Equal(t, "k8s/overlays/staging", at(entry, "source", "path"))
		_, err := time.Parse(time.RFC3339, entry["deployedAt"].(string))
		require.NoError(t, err)

		env.MarkApplicationProgressing(t, staging)
		require.Equal(t, "Progressing", at(statusOf(t, env.Application(t, staging)), "health", "status"))
		env.MarkApplicationDegraded(t, staging, "Back-off restarting failed container")
		status = statusOf(t, env.Application(t, staging))
		require.Equal(t, map[string]any{"status": "Degraded", "message": "Back-off restarting failed container"}, status["health"])
		require.Len(t, status["history"], 1, "health changes deploy nothing")
		env.MarkApplicationHealthy(t, staging)

		env.MarkApplicationSynced(t, staging, "b2")
		history = statusOf(t, env.Application(t, staging))["history"].([]any)
		require.Len(t, history, 2)
		require.Equal(t, int64(1), history[1].(map[string]any)["id"])
		require.Equal(t, "b2", history[1].(map[string]any)["revision"])
	})

	t.Run("HistoryKeepsTheLastTen", func(t *testing.T) {
		for _, revision := range []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"} {
			env.MarkApplicationSynced(t, staging, revision)
		}
		history := statusOf(t, env.Application(t, staging))["history"].([]any)
		require.Len(t, history, 10)
		require.Equal(t, int64(1), history[0].(map[string]any)["id"])
		require.Equal(t, int64(10), history[9].(map[string]any)["id"])
	})

	t.Run("RequestedByCairn", func(t *testing.T) {
		require.Nil(t, env.ApplicationOperation(t, production))
		require.NoError(t, cluster.RequestSync(t.Context(), env.Application(t, production), "v1.2.0", "cairn:alice"))
		require.Equal(t, map[string]any{
			"initiatedBy": map[string]any{"username": "cairn:alice"},
			"sync":        map[string]any{"revision": "v1.2.0"},
		}, env.ApplicationOperation(t, production))

		env.CompleteOperation(t, production)
		require.Nil(t, env.ApplicationOperation(t, production), "Argo CD clears an operation it ran")
		status := statusOf(t, env.Application(t, production))
		require.Equal(t, "Synced", at(status, "sync", "status"))
		require.Equal(t, "v1.2.0", at(status, "sync", "revision"))
		require.Equal(t, "Succeeded", at(status, "operationState", "phase"))
		require.Equal(t, "cairn:alice", at(status, "operationState", "operation", "initiatedBy", "username"))
		history := status["history"].([]any)
		require.Len(t, history, 1)
		require.Equal(t, "cairn:alice", at(history[0].(map[string]any), "initiatedBy", "username"))

		require.NoError(t, cluster.RequestSync(t.Context(), env.Application(t, production), "v1.3.0", "cairn:alice"))
		env.FailApplicationSync(t, production, "v1.3.0", "one or more synchronization tasks are not valid")
		require.Nil(t, env.ApplicationOperation(t, production))
		status = statusOf(t, env.Application(t, production))
		require.Equal(t, "Failed", at(status, "operationState", "phase"))
		require.Equal(t, "one or more synchronization tasks are not valid", at(status, "operationState", "message"))
		require.Equal(t, "v1.3.0", at(status, "operationState", "operation", "sync", "revision"))
		require.Equal(t, "OutOfSync", at(status, "sync", "status"))
		require.Len(t, status["history"], 1, "a failed sync deploys nothing")
	})
}

func TestKubeconfigWorksInAnotherProcess(t *testing.T) {
	if path := os.Getenv("KUBETEST_CHILD_KUBECONFIG"); path != "" {
		// The child: a process of its own, as the cairn binary would be.
		cfg, err := kube.RESTConfig(path)
		require.NoError(t, err)
		client, err := dynamic.NewForConfig(cfg)
		require.NoError(t, err)
		_, err = client.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).
			Get(t.Context(), settings.ArgoCDNamespace, metav1.GetOptions{})
		require.NoError(t, err)
		return
	}

	env := kubetest.Shared(t)
	path := env.Kubeconfig(t)
	file, err := clientcmd.LoadFromFile(path)
	require.NoError(t, err)
	for name, cluster := range file.Clusters {
		require.Empty(t, cluster.CertificateAuthority, "cluster %s names a file", name)
		require.NotEmpty(t, cluster.CertificateAuthorityData, "cluster %s", name)
	}
	for name, user := range file.AuthInfos {
		require.Empty(t, user.ClientCertificate+user.ClientKey, "user %s names a file", name)
		require.NotEmpty(t, user.ClientCertificateData, "user %s", name)
	}

	cfg, err := kube.RESTConfig(path)
	require.NoError(t, err)
	cluster, err := kube.NewCluster(cfg, settings)
	require.NoError(t, err)
	env.CreateNamespace(t, "kubeconfig")
	claim := manifest.BucketClaim(manifest.Plan{Service: "files", Team: "kubeconfig", Bucket: true}, settings)
	require.NoError(t, cluster.Apply(t.Context(), claim))

	child := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKubeconfigWorksInAnotherProcess$", "-test.v")
	child.Env = append(os.Environ(), "KUBETEST_CHILD_KUBECONFIG="+path)
	out, err := child.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "--- PASS")
}

func TestAPIServerStopsAndStartsUnderCairn(t *testing.T) {
	env := kubetest.Start(t)
	plan := manifest.Plan{Service: "ledger", Team: "finance", Database: "postgresql"}
	env.CreateNamespace(t, plan.Team)
	cluster := startCluster(t, env)
	db := manifest.DatabaseClaim(plan, settings)
	require.NoError(t, cluster.Apply(t.Context(), db))
	env.MarkClaimCreating(t, db)
	cachedReady := func() string {
		_, claims := cluster.Objects(plan.Service)
		if len(claims) != 1 {
			return ""
		}
		c := findCondition(claims[0], "Ready")
		if c == nil {
			return ""
		}
		return c["status"].(string)
	}
	require.Eventually(t, func() bool { return cachedReady() == "False" }, 30*time.Second, 50*time.Millisecond)
	kubeconfig := env.Kubeconfig(t)

	start := time.Now()
	env.StopAPIServer(t)
	t.Logf("StopAPIServer took %v", time.Since(start).Round(time.Millisecond))
	_, err := env.Dynamic().Resource(manifest.DatabaseClaimKind(settings).GroupVersionResource()).Namespace(plan.Team).
		Get(t.Context(), db.GetName(), metav1.GetOptions{})
	require.Error(t, err, "the API server answered while stopped")

	// Cairn keeps answering from its informers' cache, and knows it is stale.
	require.Equal(t, "False", cachedReady())
	require.Eventually(t, cluster.Stale, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "False", cachedReady())

	start = time.Now()
	env.StartAPIServer(t)
	t.Logf("StartAPIServer took %v", time.Since(start).Round(time.Millisecond))
	require.NotNil(t, env.Get(t, db), "the claim is gone after the restart")

	// Clients made before the restart work as they are: same address, same
	// certificates.
	cfg, err := kube.RESTConfig(kubeconfig)
	require.NoError(t, err)
	client, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	_, err = client.Resource(manifest.DatabaseClaimKind(settings).GroupVersionResource()).Namespace(plan.Team).
		Get(t.Context(), db.GetName(), metav1.GetOptions{})
	require.NoError(t, err)

	// And Cairn converges on what changed after the restart.
	env.MarkClaimReady(t, db)
	start = time.Now()
	require.Eventually(t, func() bool { return cachedReady() == "True" && !cluster.Stale() }, 60*time.Second, 50*time.Millisecond)
	t.Logf("Cairn's cache converged %v after the status write", time.Since(start).Round(time.Millisecond))
}

// startCluster starts Cairn's view of env's API server for the test.
func startCluster(t *testing.T, env *kubetest.Env) *kube.Cluster {
	t.Helper()
	cluster, err := kube.NewCluster(env.Config(), settings)
	require.NoError(t, err)
	kubetest.RunCluster(t, cluster)
	return cluster
}

func findCondition(obj *unstructured.Unstructured, conditionType string) map[string]any {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		if c, ok := c.(map[string]any); ok && c["type"] == conditionType {
			return c
		}
	}
	return nil
}

func condition(t *testing.T, obj *unstructured.Unstructured, conditionType string) map[string]any {
	t.Helper()
	c := findCondition(obj, conditionType)
	require.NotNil(t, c, "no %s condition in %v", conditionType, obj.Object["status"])
	return c
}

func requireCondition(t *testing.T, obj *unstructured.Unstructured, conditionType, status, reason string) {
	t.Helper()
	c := condition(t, obj, conditionType)
	require.Equal(t, status, c["status"], "%s status", conditionType)
	require.Equal(t, reason, c["reason"], "%s reason", conditionType)
}

func statusOf(t *testing.T, obj *unstructured.Unstructured) map[string]any {
	t.Helper()
	require.NotNil(t, obj)
	status, ok := obj.Object["status"].(map[string]any)
	require.True(t, ok, "no status")
	return status
}

// at is the value at a path of nested maps, nil where there is none.
func at(v any, path ...string) any {
	for _, field := range path {
		m, _ := v.(map[string]any)
		v = m[field]
	}
	return v
}

func pick(v any, fields ...string) map[string]any {
	out := map[string]any{}
	for _, field := range fields {
		out[field] = at(v, field)
	}
	return out
}

func TestDeploymentsNamingTheirServiceAreItsWorkloads(t *testing.T) {
	env := kubetest.Shared(t)
	env.CreateNamespace(t, "shipping")
	cluster := startCluster(t, env)
	deployments := env.Dynamic().Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace("shipping")
	deployment := func(name string, labels map[string]any, replicas int64, requests ...map[string]any) *unstructured.Unstructured {
		containers := []any{}
		for i, r := range requests {
			containers = append(containers, map[string]any{
				"name": name + "-" + string(rune('a'+i)), "image": "registry.company.com/shipping/" + name,
				"resources": map[string]any{"requests": r},
			})
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "namespace": "shipping", "labels": labels},
			"spec": map[string]any{
				"replicas": replicas,
				"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": name}},
					"spec":     map[string]any{"containers": containers},
				},
			},
		}}
	}
	for _, d := range []*unstructured.Unstructured{
		deployment("tracker", map[string]any{manifest.LabelName: "tracker"}, 3,
			map[string]any{"cpu": "250m", "memory": "512Mi"}, map[string]any{"cpu": "50m", "memory": "64Mi"}),
		deployment("tracker-worker", map[string]any{manifest.LabelName: "tracker"}, 1, map[string]any{"cpu": "1", "memory": "1Gi"}),
		deployment("unlabelled", map[string]any{"app": "unlabelled"}, 5, map[string]any{"cpu": "4"}),
	} {
		_, err := deployments.Create(t.Context(), d, metav1.CreateOptions{})
		require.NoError(t, err)
	}

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		workloads := cluster.Workloads("tracker")
		require.Len(c, workloads, 2)
		require.Equal(c, kube.Workload{Namespace: "shipping", Name: "tracker", Replicas: 3, CPUMillis: 300,
			MemoryBytes: 576 << 20, CreateTime: workloads[0].CreateTime}, workloads[0])
		require.Equal(c, kube.Workload{Namespace: "shipping", Name: "tracker-worker", Replicas: 1, CPUMillis: 1000,
			MemoryBytes: 1 << 30, CreateTime: workloads[1].CreateTime}, workloads[1])
		require.False(c, workloads[0].CreateTime.IsZero())
	}, 30*time.Second, 50*time.Millisecond)
	require.Empty(t, cluster.Workloads("unlabelled"))

	// A scale shows in the cache as the API server records it.
	_, err := deployments.Patch(t.Context(), "tracker", types.MergePatchType, []byte(`{"spec":{"replicas":6}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		w := cluster.Workloads("tracker")
		return len(w) == 2 && w[0].Replicas == 6
	}, 30*time.Second, 50*time.Millisecond)
}

func TestPlatformMetricsReadEveryClaimFromTheCache(t *testing.T) {
	// An API server of its own: the self-service ratio counts every claim
	// on the cluster.
	env := kubetest.Start(t)
	env.CreateNamespace(t, "payments")
	cluster := startCluster(t, env)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(t.Context()))

	// orders: created through Cairn, with a database and a bucket.
	orders := manifest.Plan{Service: "orders", Team: "payments", Database: "postgresql", Bucket: true}
	prov, _, err := st.CreateProvisioning(t.Context(), store.Provisioning{
		Service: orders.Service, Requester: "user:default/alice",
		Spec: store.ProvisioningSpec{Owner: "group:default/payments", Team: orders.Team, Database: orders.Database, Bucket: true},
	}, &store.Service{Name: orders.Service, Owner: "group:default/payments", Team: orders.Team, GoldenPath: true})
	require.NoError(t, err)
	db, bucket := manifest.DatabaseClaim(orders, settings), manifest.BucketClaim(orders, settings)
	// ghost: Cairn's labels, but the store has no provisioning of it.
	ghost := manifest.BucketClaim(manifest.Plan{Service: "ghost", Team: "payments", Bucket: true}, settings)
	for _, claim := range []*unstructured.Unstructured{db, bucket, ghost} {
		require.NoError(t, cluster.Apply(t.Context(), claim))
	}
	// legacy-db: made by hand, without Cairn's labels.
	legacy := manifest.DatabaseClaim(manifest.Plan{Service: "legacy", Team: "payments", Database: "postgresql"}, settings)
	legacy.SetLabels(nil)
	_, err = env.Dynamic().Resource(manifest.DatabaseClaimKind(settings).GroupVersionResource()).Namespace("payments").
		Create(t.Context(), legacy, metav1.CreateOptions{})
	require.NoError(t, err)
	// An unready claim counts for the ratio, not for the times.
	notReady := manifest.BucketClaim(manifest.Plan{Service: "slow", Team: "payments", Bucket: true}, settings)
	require.NoError(t, cluster.Apply(t.Context(), notReady))
	env.MarkClaimCreating(t, notReady)
	for _, claim := range []*unstructured.Unstructured{db, bucket, ghost, legacy} {
		env.MarkClaimReady(t, claim)
	}

	// What the API server holds, read back: when each claim turned ready.
	readySince := func(claim *unstructured.Unstructured) time.Time {
		since, err := time.Parse(time.RFC3339, condition(t, env.Get(t, claim), "Ready")["lastTransitionTime"].(string))
		require.NoError(t, err)
		return since
	}
	want := []kube.Claim{
		{Kind: manifest.KindBucketClaim, Namespace: "payments", Name: "ghost-bucket", Service: "ghost", ManagedByCairn: true, ReadySince: readySince(ghost)},
		{Kind: manifest.KindBucketClaim, Namespace: "payments", Name: "orders-bucket", Service: "orders", ManagedByCairn: true, ReadySince: readySince(bucket)},
		{Kind: manifest.KindBucketClaim, Namespace: "payments", Name: "slow-bucket", Service: "slow", ManagedByCairn: true},
		{Kind: manifest.KindDatabaseClaim, Namespace: "payments", Name: "legacy-db", ManagedByCairn: false, ReadySince: readySince(legacy)},
		{Kind: manifest.KindDatabaseClaim, Namespace: "payments", Name: "orders-db", Service: "orders", ManagedByCairn: true, ReadySince: readySince(db)},
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, want, cluster.Claims())
	}, 30*time.Second, 50*time.Millisecond)

	m, err := delivery.NewPlatform(st, cluster).Metrics(t.Context(), "30d")
	require.NoError(t, err)
	// One sample of each type, orders' own: from its create request to
	// its claim's turn to ready. Condition times have whole seconds, so a
	// claim ready within the second of the request counts zero.
	provisioned := func(claim *unstructured.Unstructured) time.Duration {
		return max(readySince(claim).Sub(prov.CreateTime), 0)
	}
	require.Equal(t, []delivery.ProvisioningTime{
		{ResourceType: manifest.KindDatabaseClaim, P50: provisioned(db), P95: provisioned(db), Samples: 1},
		{ResourceType: manifest.KindBucketClaim, P50: provisioned(bucket), P95: provisioned(bucket), Samples: 1},
	}, m.ProvisioningTimes)
	// Four of the five claims carry Cairn's label.
	require.Equal(t, 0.8, m.SelfServiceRatio)
}

func TestEnsureNamespaceCreatesATeamsNamespaceOnceLabelledAsCairns(t *testing.T) {
	env := kubetest.Shared(t)
	var creates atomic.Int32
	cfg := env.Config()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && r.URL.Path == "/api/v1/namespaces" {
				creates.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	cluster, err := kube.NewCluster(cfg, settings)
	require.NoError(t, err)
	namespaces, err := kubernetes.NewForConfig(env.Config())
	require.NoError(t, err)

	for range 3 {
		require.NoError(t, cluster.EnsureNamespace(t.Context(), "team-ensured", "team-ensured"))
	}
	require.EqualValues(t, 1, creates.Load(), "the namespace is asked for once")
	ns, err := namespaces.CoreV1().Namespaces().Get(t.Context(), "team-ensured", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		manifest.LabelManagedBy: manifest.ManagedBy, manifest.LabelTeam: "team-ensured", "kubernetes.io/metadata.name": "team-ensured",
	}, ns.Labels)

	// A namespace someone else made is left as it is.
	env.CreateNamespace(t, "team-made-by-others")
	require.NoError(t, cluster.EnsureNamespace(t.Context(), "team-made-by-others", "team-made-by-others"))
	ns, err = namespaces.CoreV1().Namespaces().Get(t.Context(), "team-made-by-others", metav1.GetOptions{})
	require.NoError(t, err)
	require.NotContains(t, ns.Labels, manifest.LabelManagedBy)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
