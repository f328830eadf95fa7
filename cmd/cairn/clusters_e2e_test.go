package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// TestProvisioningAcrossThreeClusters runs Cairn on three API servers: a
// management cluster holding the claims and the Applications of dev and
// staging (staging's deploying to the spoke Argo CD knows as spoke-a), and
// a spoke with an Argo CD of its own holding production's Application and
// its own database, apart from the one dev and staging share.
func TestProvisioningAcrossThreeClusters(t *testing.T) {
	management, spokeA, spokeB := kubetest.Start(t), kubetest.Start(t), kubetest.Start(t)
	config := provisioningConfig(t)
	raw, err := os.ReadFile(config)
	require.NoError(t, err)
	raw = append(raw, fmt.Sprintf(`kubernetes:
  clusters:
    - {name: management, kubeconfig: %s}
    - {name: spoke-a, kubeconfig: %s}
    - {name: spoke-b, kubeconfig: %s}
  claimsCluster: management
  environments:
    - {name: dev, cluster: management, namespace: "{team}-dev"}
    - name: staging
      cluster: management
      sync: promotion
      destinationName: spoke-a
      promotion: {from: dev}
    - name: production
      cluster: spoke-b
      sync: promotion
      revision: release
      promotion: {from: staging, approval: true, requireRunning: true}
      claims: {cluster: spoke-b, namespace: "{team}-production"}
`, management.Kubeconfig(t), spokeA.Kubeconfig(t), spokeB.Kubeconfig(t))...)
	require.NoError(t, os.WriteFile(config, raw, 0o600))
	p := launchCairnWithConfig(t, engines[0].storeURL(t), config)
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)

	body := strings.NewReader(`{"name": "orders-service", "owner": "group:default/team-orders", "database": "postgresql",
  "environments": ["dev", "staging", "production"], "repositoryUrl": "https://github.com/company/orders-service.git"}`)
	r := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", body)
	require.Equal(t, http.StatusOK, r.status, r.raw)

	t.Run("TheConfiguredPathIsListed", func(t *testing.T) {
		r := p.restAs(t, ordersDeveloperToken, "GET", "/v1/environments", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		var path []string
		for _, e := range r.body["environments"].([]any) {
			e := e.(map[string]any)
			from := ""
			if promotion, ok := e["promotion"].(map[string]any); ok {
				from = fmt.Sprintf(" from %s, approval %v, requireRunning %v", promotion["from"], promotion["approval"], promotion["requireRunning"])
			}
			path = append(path, fmt.Sprintf("%s: %s %s%s", e["name"], e["sync"], e["revision"], from))
		}
		require.Equal(t, []string{
			"dev: automatic main",
			"staging: promotion main from dev, approval false, requireRunning false",
			"production: promotion release from staging, approval true, requireRunning true",
		}, path)
		require.Equal(t, http.StatusUnauthorized, p.restAs(t, "not-a-token", "GET", "/v1/environments", nil).status)
	})

	t.Run("EachObjectGoesToItsCluster", func(t *testing.T) {
		require.Eventually(t, func() bool {
			return len(objectsOnCluster(t, management, "orders-service")) == 3 && len(objectsOnCluster(t, spokeB, "orders-service")) == 2
		}, 60*time.Second, 100*time.Millisecond, "the objects did not reach their clusters")
		require.Empty(t, objectsOnCluster(t, spokeA, "orders-service"), "spoke-a is deployed to by the management cluster's Argo CD")

		destination := func(env *kubetest.Env, name string) map[string]any {
			d, _, _ := unstructured.NestedMap(env.Application(t, name).Object, "spec", "destination")
			return d
		}
		require.Equal(t, map[string]any{"server": manifest.DefaultDestinationServer, "namespace": "team-orders-dev"},
			destination(management, "orders-service-dev"))
		require.Equal(t, map[string]any{"name": "spoke-a", "namespace": "team-orders"}, destination(management, "orders-service-staging"))
		require.Equal(t, map[string]any{"server": manifest.DefaultDestinationServer, "namespace": "team-orders"},
			destination(spokeB, "orders-service-production"))
		plan := manifest.Plan{Service: "orders-service", Team: "team-orders", Database: "postgresql"}
		db := management.Get(t, manifest.DatabaseClaim(plan, manifest.DefaultSettings()))
		require.NotNil(t, db, "the shared claim is on the claims cluster")
		require.Equal(t, "team-orders", db.GetNamespace())
		own := spokeB.Get(t, manifest.ClaimSet{Environment: "production", Namespace: "team-orders-production"}.DatabaseClaim(plan, manifest.DefaultSettings()))
		require.NotNil(t, own, "production's own claim is on spoke-b")
		require.Equal(t, "orders-service-production-db", own.GetName())

		namespaces, err := kubernetes.NewForConfig(spokeB.Config())
		require.NoError(t, err)
		ns, err := namespaces.CoreV1().Namespaces().Get(t.Context(), "team-orders-production", metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, manifest.ManagedBy, ns.Labels[manifest.LabelManagedBy], "made by Cairn where production's claims go")
		require.Equal(t, "team-orders", ns.Labels[manifest.LabelTeam])
	})

	t.Run("StatusMergesTheClusters", func(t *testing.T) {
		var r restResponse
		require.Eventually(t, func() bool {
			r = p.rest(t, "GET", "/v1/services/orders-service/status", nil)
			return r.status == http.StatusOK && len(r.body["deployments"].([]any)) == 3 && len(r.body["infrastructure"].([]any)) == 2
		}, 30*time.Second, 100*time.Millisecond, "status did not show every object: %s", r.raw)
		require.Equal(t, map[string]any{"dev": "management", "staging": "management", "production": "spoke-b"}, clustersOf(r))
		shared, own := r.body["infrastructure"].([]any)[0].(map[string]any), r.body["infrastructure"].([]any)[1].(map[string]any)
		require.Equal(t, []any{"orders-service-db", "management", ""}, []any{shared["resource"], shared["cluster"], shared["environment"]})
		require.Equal(t, []any{"orders-service-production-db", "spoke-b", "production"}, []any{own["resource"], own["cluster"], own["environment"]})
		require.Equal(t, false, r.body["stale"])
	})

	t.Run("PromotionFollowsThePath", func(t *testing.T) {
		promote := func(token, env, revision string) restResponse {
			return p.restAs(t, token, "POST", "/v1/services/orders-service/promotions",
				strings.NewReader(fmt.Sprintf(`{"promotion": {"revision": %q, "environment": %q}}`, revision, env)))
		}
		r := promote(ordersDeveloperToken, "production", "7c1d2e3")
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		require.Equal(t, "PROMOTION_SKIPS_ENVIRONMENT", r.body["details"].([]any)[0].(map[string]any)["reason"])
		require.Contains(t, r.body["message"], "the path is dev -> staging -> production")

		r = promote(ordersDeveloperToken, "staging", "7c1d2e3")
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "approved", r.body["state"], "staging takes promotions without an approver")
		require.NotNil(t, management.ApplicationOperation(t, "orders-service-staging"), "the staging sync was requested on the management cluster")
		management.MarkApplicationSynced(t, "orders-service-staging", "7c1d2e3")

		require.Eventually(t, func() bool {
			r = promote(ordersDeveloperToken, "production", "7c1d2e3")
			return r.status == http.StatusOK
		}, 30*time.Second, 100*time.Millisecond, "production did not take what staging runs: %s", r.raw)
		require.Equal(t, "pending", r.body["state"], "production needs an approver")
		approved := p.restAs(t, ordersApproverToken, "POST", "/v1/"+r.body["name"].(string)+":approve", strings.NewReader(`{}`))
		require.Equal(t, http.StatusOK, approved.status, approved.raw)
		require.NotNil(t, spokeB.ApplicationOperation(t, "orders-service-production"), "the production sync was requested on spoke-b")

		events := p.rest(t, "GET", "/v1/auditEvents?action=cairn.v1.ProvisioningService/ApprovePromotion", nil)
		require.Equal(t, http.StatusOK, events.status, events.raw)
		require.True(t, strings.HasPrefix(events.body["auditEvents"].([]any)[0].(map[string]any)["detail"].(string),
			"approved the promotion of 7c1d2e3 into production; evidence: cost +"),
			"the audit event says what the approval did, and the evidence it was decided on: %s", events.raw)
	})

	t.Run("AClusterThatDoesNotAnswerMakesStaleOnlyWhatLivesThere", func(t *testing.T) {
		spokeB.StopAPIServer(t)
		var r restResponse
		require.Eventually(t, func() bool {
			r = p.rest(t, "GET", "/v1/services/orders-service/status", nil)
			return r.status == http.StatusOK && r.body["stale"] == true
		}, 30*time.Second, 100*time.Millisecond, "status did not turn stale: %s", r.raw)
		stale := map[string]any{}
		for _, d := range r.body["deployments"].([]any) {
			stale[d.(map[string]any)["environment"].(string)] = d.(map[string]any)["stale"]
		}
		require.Equal(t, map[string]any{"dev": false, "staging": false, "production": true}, stale)
		require.Equal(t, false, r.body["infrastructure"].([]any)[0].(map[string]any)["stale"], "the shared claim lives on the management cluster")
		require.Equal(t, true, r.body["infrastructure"].([]any)[1].(map[string]any)["stale"], "production's own, on spoke-b")
		spokeB.StartAPIServer(t)
	})
}

// clustersOf maps each deployment's environment to its cluster.
func clustersOf(r restResponse) map[string]any {
	clusters := map[string]any{}
	for _, d := range r.body["deployments"].([]any) {
		clusters[d.(map[string]any)["environment"].(string)] = d.(map[string]any)["cluster"]
	}
	return clusters
}
