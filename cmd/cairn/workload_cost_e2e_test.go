package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

func TestCostCardPricesTheDeploymentsOnTheCluster(t *testing.T) {
	env := kubetest.Start(t)
	env.CreateNamespace(t, "team-billing")
	p := launchCairnWithConfig(t, engines[0].storeURL(t), writeConfig(t, ""), "--kubeconfig", env.Kubeconfig(t))
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	r := p.rest(t, "POST", "/v1/services:register", registerBody(t, `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invoicer
spec:
  type: service
  lifecycle: production
  owner: group:default/team-billing
`))
	require.Equal(t, http.StatusOK, r.status, r.raw)

	// The golden-path template's Deployment, as Argo CD would apply it.
	deployment := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "invoicer", "namespace": "team-billing",
			"labels": map[string]any{manifest.LabelName: "invoicer", manifest.LabelTeam: "team-billing"}},
		"spec": map[string]any{
			"replicas": int64(2),
			"selector": map[string]any{"matchLabels": map[string]any{manifest.LabelName: "invoicer"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{manifest.LabelName: "invoicer"}},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": "invoicer", "image": "registry.company.com/team-billing/invoicer:latest",
					"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}},
				}}},
			},
		},
	}}
	_, err := env.Dynamic().Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).
		Namespace("team-billing").Create(context.Background(), deployment, metav1.CreateOptions{})
	require.NoError(t, err)

	// 2 replicas x (0.1 vCPU x 0.04048 + 0.125 GiB x 0.004445) x 730 hours.
	require.Eventually(t, func() bool {
		r = p.rest(t, "GET", "/v1/services/invoicer/cost", nil)
		return r.status == http.StatusOK && len(r.body["breakdown"].([]any)) == 1
	}, 30*time.Second, 100*time.Millisecond, "the Deployment was not priced: %s", r.raw)
	require.Equal(t, map[string]any{"resource": "team-billing/invoicer", "type": "compute", "monthlyCost": 6.721293,
		"trend": "up", "source": "estimated"}, r.body["breakdown"].([]any)[0])
	require.Equal(t, 6.721293, r.body["totalMonthlyCost"])
}
