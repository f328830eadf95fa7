package main

// Provisioning end to end: the real cairn binary against a real
// kube-apiserver and etcd (envtest). Crossplane's and Argo CD's controllers
// cannot run here, so kubetest writes the status they would write.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// Principals of team-orders: a developer who also approves, and a second
// approver.
const (
	ordersDeveloperToken = "e2e-orders-developer-4a1e"
	ordersApproverToken  = "e2e-orders-approver-9d2c"
)

func provisioningConfig(t *testing.T) string {
	t.Helper()
	return writeConfig(t, fmt.Sprintf(`    - name: orders-developer
      sha256: %s
      roles: [developer, approver]
      teams: [team-orders]
    - name: orders-approver
      sha256: %s
      roles: [approver]
      teams: [team-orders]
`, tokenHash(ordersDeveloperToken), tokenHash(ordersApproverToken)))
}

func createBody(name, requestID string) *strings.Reader {
	return strings.NewReader(fmt.Sprintf(`{
  "name": %q, "owner": "group:default/team-orders", "template": "node-microservice",
  "database": "postgresql", "databaseSize": "small", "bucket": true,
  "environments": ["staging", "production"],
  "repositoryUrl": "https://github.com/company/%s.git", "requestId": %q}`, name, name, requestID))
}

// servicePlan is what Cairn provisions for createBody's service.
func servicePlan(name string) manifest.Plan {
	return manifest.Plan{
		Service: name, Team: "team-orders", Namespace: "team-orders",
		RepositoryURL: "https://github.com/company/" + name + ".git",
		Database:      "postgresql", DatabaseSize: "small", Bucket: true,
		Environments: []string{"staging", "production"},
	}
}

// objectsOnCluster lists a service's objects of every kind Cairn applies.
func objectsOnCluster(t *testing.T, env *kubetest.Env, service string) []unstructured.Unstructured {
	t.Helper()
	var all []unstructured.Unstructured
	for _, kind := range manifest.Kinds(manifest.DefaultSettings()) {
		list, err := env.Dynamic().Resource(kind.GroupVersionResource()).List(context.Background(),
			metav1.ListOptions{LabelSelector: manifest.LabelName + "=" + service})
		require.NoError(t, err)
		all = append(all, list.Items...)
	}
	return all
}

func (p *cairnProcess) waitPhase(t *testing.T, service, phase string) restResponse {
	t.Helper()
	var r restResponse
	require.Eventually(t, func() bool {
		r = p.rest(t, "GET", "/v1/services/"+service+"/status", nil)
		return r.status == http.StatusOK && r.body["phase"] == phase
	}, 60*time.Second, 100*time.Millisecond, "phase did not become %s: %s", phase, r.raw)
	return r
}

func TestProvisioningOnKubernetes(t *testing.T) {
	env := kubetest.Start(t)
	// team-orders's namespace does not exist: Cairn makes it.
	config := provisioningConfig(t)
	kubeconfig := env.Kubeconfig(t)
	storeURL := engines[0].storeURL(t)
	p := launchCairnWithConfig(t, storeURL, config, "--kubeconfig", kubeconfig)
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	whole := t // the restarted process outlives the subtest that restarts it

	t.Run("StatusTellsAnUnknownServiceFromOneWithNothingProvisioned", func(t *testing.T) {
		reason := func(r restResponse) string {
			require.Equal(t, http.StatusNotFound, r.status, r.raw)
			return r.body["details"].([]any)[0].(map[string]any)["reason"].(string)
		}
		require.Equal(t, "SERVICE_NOT_FOUND", reason(p.rest(t, "GET", "/v1/services/nobody/status", nil)))
		r := p.rest(t, "POST", "/v1/services:register", strings.NewReader(
			`{"service": {"name": "services/legacy-batch", "type": "service", "lifecycle": "production", "owner": "team-orders"}}`))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "PROVISIONING_NOT_FOUND", reason(p.rest(t, "GET", "/v1/services/legacy-batch/status", nil)))
	})

	t.Run("CreateAppliesClaimsAndApplicationsThenStatusFollowsThem", func(t *testing.T) {
		r := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", createBody("orders-service", "task-1"))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "orders-service", r.body["service"])
		require.Equal(t, "provisioning", r.body["status"])
		require.Equal(t, []any{"database:postgresql", "bucket"}, r.body["resources"])
		require.Equal(t, []any{"staging", "production"}, r.body["environments"])

		require.Eventually(t, func() bool { return len(objectsOnCluster(t, env, "orders-service")) == 4 },
			60*time.Second, 100*time.Millisecond, "the claims and Applications did not appear")
		plan := servicePlan("orders-service")
		db := env.Get(t, manifest.DatabaseClaim(plan, manifest.DefaultSettings()))
		require.Equal(t, "team-orders", db.GetNamespace())
		require.Equal(t, map[string]any{
			manifest.LabelManagedBy: manifest.ManagedBy, manifest.LabelTeam: "team-orders",
			"kubernetes.io/metadata.name": "team-orders",
		}, teamNamespace(t, env)["metadata"].(map[string]any)["labels"], "Cairn made the team's namespace, labelled as its own")
		engine, _, _ := unstructured.NestedString(db.Object, "spec", "engine")
		require.Equal(t, "postgresql", engine)
		for _, obj := range objectsOnCluster(t, env, "orders-service") {
			require.Equal(t, "cairn", obj.GetLabels()[manifest.LabelManagedBy], obj.GetName())
			require.Equal(t, "team-orders", obj.GetLabels()[manifest.LabelTeam], obj.GetName())
		}
		staging := env.Application(t, "orders-service-staging")
		automated, found, _ := unstructured.NestedMap(staging.Object, "spec", "syncPolicy", "automated")
		require.True(t, found)
		require.Equal(t, map[string]any{"prune": true, "selfHeal": true}, automated)
		revision, _, _ := unstructured.NestedString(staging.Object, "spec", "source", "targetRevision")
		require.Equal(t, "main", revision)
		production := env.Application(t, "orders-service-production")
		_, found, _ = unstructured.NestedMap(production.Object, "spec", "syncPolicy", "automated")
		require.False(t, found, "production syncs by hand")
		revision, _, _ = unstructured.NestedString(production.Object, "spec", "source", "targetRevision")
		require.Equal(t, "release", revision)

		p.waitPhase(t, "orders-service", "provisioning")
		env.MarkClaimReady(t, db)
		env.MarkClaimReady(t, manifest.BucketClaim(plan, manifest.DefaultSettings()))
		env.MarkApplicationSynced(t, "orders-service-staging", "abc123")
		status := p.waitPhase(t, "orders-service", "ready")
		require.Equal(t, false, status.body["stale"])
		deployments := status.body["deployments"].([]any)
		require.Len(t, deployments, 2)
		stagingStatus := deployments[1].(map[string]any)
		require.Equal(t, "staging", stagingStatus["environment"])
		require.Equal(t, "Synced", stagingStatus["syncStatus"])
		require.Equal(t, "Healthy", stagingStatus["healthStatus"])
		require.Equal(t, "abc123", stagingStatus["revision"])
		infrastructure := status.body["infrastructure"].([]any)
		require.Len(t, infrastructure, 2)
		for _, infra := range infrastructure {
			require.Equal(t, true, infra.(map[string]any)["ready"])
		}
		require.Eventually(t, func() bool {
			s := p.rest(t, "GET", "/v1/services/orders-service/status", nil)
			return s.body["provisioningDuration"] != nil && s.body["provisioningDuration"] != "0s"
		}, 30*time.Second, 100*time.Millisecond, "the provisioning duration was not recorded")

		catalogEntry := p.rest(t, "GET", "/v1/services/orders-service", nil)
		require.Equal(t, http.StatusOK, catalogEntry.status, catalogEntry.raw)
		require.Equal(t, true, catalogEntry.body["goldenPath"])
		require.Equal(t, "team-orders", catalogEntry.body["team"])
	})

	t.Run("PromotionNeedsAnotherApproverThenSyncsProduction", func(t *testing.T) {
		r := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services/orders-service/promotions",
			strings.NewReader(`{"promotion": {"revision": "v1.2.3"}, "requestId": "promote-1"}`))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "pending", r.body["state"])
		name := r.body["name"].(string)

		own := p.restAs(t, ordersDeveloperToken, "POST", "/v1/"+name+":approve", strings.NewReader(`{}`))
		require.Equal(t, http.StatusForbidden, own.status, own.raw)
		require.Contains(t, own.body["message"], "other than its requester")

		approved := p.restAs(t, ordersApproverToken, "POST", "/v1/"+name+":approve", strings.NewReader(`{"reason": "release notes reviewed"}`))
		require.Equal(t, http.StatusOK, approved.status, approved.raw)
		require.Equal(t, "approved", approved.body["state"])
		require.Equal(t, "orders-approver", approved.body["decider"])

		var operation map[string]any
		require.Eventually(t, func() bool {
			operation = env.ApplicationOperation(t, "orders-service-production")
			return operation != nil
		}, 30*time.Second, 100*time.Millisecond, "no sync was requested")
		sync, _ := operation["sync"].(map[string]any)
		require.Equal(t, "v1.2.3", sync["revision"])
		production := env.Application(t, "orders-service-production")
		revision, _, _ := unstructured.NestedString(production.Object, "spec", "source", "targetRevision")
		require.Equal(t, "v1.2.3", revision)

		env.CompleteOperation(t, "orders-service-production")
		require.Eventually(t, func() bool {
			s := p.rest(t, "GET", "/v1/services/orders-service/status", nil)
			deployments, _ := s.body["deployments"].([]any)
			if len(deployments) != 2 {
				return false
			}
			prod := deployments[0].(map[string]any)
			return prod["syncStatus"] == "Synced" && prod["revision"] == "v1.2.3"
		}, 30*time.Second, 100*time.Millisecond, "production did not report the synced revision")

		again := p.restAs(t, ordersApproverToken, "POST", "/v1/"+name+":deny", strings.NewReader(`{}`))
		require.Equal(t, http.StatusBadRequest, again.status, "a decided promotion stays decided: %s", again.raw)
	})

	t.Run("ACreateSurvivesSIGKILLAndItsRetryCreatesNothingNew", func(t *testing.T) {
		r := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", createBody("billing-api", "task-2"))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
		<-p.exited

		p = launchCairnWithConfig(whole, storeURL, config, "--kubeconfig", kubeconfig)
		p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
		// The killed leader's Lease must expire before the new process leads.
		require.Eventually(t, func() bool { return len(objectsOnCluster(t, env, "billing-api")) == 4 },
			kube.LeaseDuration+60*time.Second, 200*time.Millisecond, "the create was lost")

		retry := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", createBody("billing-api", "task-2"))
		require.Equal(t, http.StatusOK, retry.status, retry.raw)
		require.Len(t, objectsOnCluster(t, env, "billing-api"), 4, "exactly one of each object")
		conflict := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", createBody("billing-api", "task-3"))
		require.Equal(t, http.StatusConflict, conflict.status, conflict.raw)

		plan := servicePlan("billing-api")
		env.MarkClaimReady(t, manifest.DatabaseClaim(plan, manifest.DefaultSettings()))
		env.MarkClaimReady(t, manifest.BucketClaim(plan, manifest.DefaultSettings()))
		env.MarkApplicationSynced(t, "billing-api-staging", "def456")
		p.waitPhase(t, "billing-api", "ready")
	})

	t.Run("WhileTheAPIServerIsDownStatusIsStaleAndCreatesConvergeAfter", func(t *testing.T) {
		env.StopAPIServer(t)
		var r restResponse
		require.Eventually(t, func() bool {
			r = p.rest(t, "GET", "/v1/services/orders-service/status", nil)
			return r.status == http.StatusOK && r.body["stale"] == true
		}, 30*time.Second, 100*time.Millisecond, "status did not turn stale: %s", r.raw)
		require.Equal(t, "ready", r.body["phase"], "the last view is still served")

		created := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", createBody("search-api", "task-4"))
		require.Equal(t, http.StatusOK, created.status, "intent is recorded while the cluster is away: %s", created.raw)

		env.StartAPIServer(t)
		require.Eventually(t, func() bool { return len(objectsOnCluster(t, env, "search-api")) == 4 },
			60*time.Second, 200*time.Millisecond, "the create did not converge after the API server returned")
		require.Eventually(t, func() bool {
			r = p.rest(t, "GET", "/v1/services/orders-service/status", nil)
			return r.status == http.StatusOK && r.body["stale"] == false
		}, 30*time.Second, 100*time.Millisecond, "status stayed stale: %s", r.raw)
	})

	t.Run("ProvisioningMetricsAreExportedAndCountClaimsMadeByHand", func(t *testing.T) {
		r := p.rest(t, "GET", "/metrics", nil)
		require.Contains(t, r.raw, `platform_service_creations_total{status="accepted",team="team-orders",template="node-microservice"}`)
		require.Contains(t, r.raw, `platform_self_service_provisions_total{resource_type="DatabaseClaim"}`)

		manual := manifest.DatabaseClaim(servicePlan("legacy-reports"), manifest.DefaultSettings())
		manual.SetLabels(nil) // made with kubectl, not by Cairn
		_, err := env.Dynamic().Resource(manifest.DatabaseClaimKind(manifest.DefaultSettings()).GroupVersionResource()).
			Namespace("team-orders").Create(context.Background(), manual, metav1.CreateOptions{})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			return strings.Contains(p.rest(t, "GET", "/metrics", nil).raw, `platform_manual_provisions_total{resource_type="DatabaseClaim"} 1`)
		}, 30*time.Second, 100*time.Millisecond, "a claim made by hand was not counted")
	})

	t.Run("AnObjectDeletedByHandIsAppliedAgainAtOnce", func(t *testing.T) {
		bucket := manifest.BucketClaim(servicePlan("billing-api"), manifest.DefaultSettings())
		err := env.Dynamic().Resource(manifest.BucketClaimKind(manifest.DefaultSettings()).GroupVersionResource()).
			Namespace(bucket.GetNamespace()).Delete(context.Background(), bucket.GetName(), metav1.DeleteOptions{})
		require.NoError(t, err)
		// Well inside the ten-minute resync: the deletion itself brings it back.
		require.Eventually(t, func() bool { return len(objectsOnCluster(t, env, "billing-api")) == 4 },
			30*time.Second, 100*time.Millisecond, "the deleted claim was not applied again")
	})

	t.Run("TheTeamsNamespaceStaysWhenItsClaimsGo", func(t *testing.T) {
		created := teamNamespace(t, env)["metadata"].(map[string]any)["uid"]
		for _, kind := range []string{"bucket", "database"} {
			r := p.rest(t, "DELETE", "/v1/services/billing-api/resources/"+kind+"?force=true", nil)
			require.Equal(t, http.StatusOK, r.status, r.raw)
		}
		require.Eventually(t, func() bool { return len(objectsOnCluster(t, env, "billing-api")) == 2 },
			30*time.Second, 100*time.Millisecond, "the claims were not removed")
		require.Equal(t, created, teamNamespace(t, env)["metadata"].(map[string]any)["uid"],
			"the namespace Cairn made is the one it keeps: never deleted, never made again")
	})
}

// teamNamespace returns team-orders's namespace as the API server holds it.
func teamNamespace(t *testing.T, env *kubetest.Env) map[string]any {
	t.Helper()
	ns, err := env.Dynamic().Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).
		Get(context.Background(), "team-orders", metav1.GetOptions{})
	require.NoError(t, err)
	return ns.Object
}
