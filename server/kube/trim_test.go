package kube

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/server/kube/manifest"
)

func TestTrimCachedKeepsWhatCairnReads(t *testing.T) {
	history := []any{map[string]any{"id": int64(3), "revision": "abc", "deployedAt": "2026-11-01T10:00:00Z"}}
	conditions := []any{map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-01T10:00:00Z"}}
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata": map[string]any{
			"name": "orders-service-staging", "namespace": "argocd", "uid": "u-1", "resourceVersion": "42", "generation": int64(3),
			"labels":        map[string]any{manifest.LabelName: "orders-service", manifest.LabelEnvironment: "staging"},
			"annotations":   map[string]any{"notifications.argoproj.io/subscribe.on-deployed.cairn": ""},
			"managedFields": []any{map[string]any{"manager": "cairn"}},
		},
		"spec": map[string]any{"project": "default", "source": map[string]any{"repoURL": "https://git.example.com/orders"}},
		"status": map[string]any{
			"sync":       map[string]any{"status": "Synced", "revision": "abc", "comparedTo": map[string]any{"source": map[string]any{}}},
			"health":     map[string]any{"status": "Healthy"},
			"history":    history,
			"resources":  []any{map[string]any{"kind": "Deployment", "name": "orders-service"}},
			"conditions": conditions,
			"operationState": map[string]any{
				"phase": "Failed", "startedAt": "2026-11-01T11:00:00Z", "finishedAt": "2026-11-01T11:01:00Z",
				"operation":  map[string]any{"sync": map[string]any{"revision": "def", "prune": true}},
				"syncResult": map[string]any{"revision": "def", "resources": []any{map[string]any{"name": "orders-service"}}},
			},
		},
	}}

	trimmed, err := trimCached(app)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata": map[string]any{
			"name": "orders-service-staging", "namespace": "argocd", "uid": "u-1", "resourceVersion": "42", "generation": int64(3),
			"labels":      map[string]any{manifest.LabelName: "orders-service", manifest.LabelEnvironment: "staging"},
			"annotations": map[string]any{"notifications.argoproj.io/subscribe.on-deployed.cairn": ""},
		},
		"status": map[string]any{
			"sync":       map[string]any{"status": "Synced", "revision": "abc"},
			"health":     map[string]any{"status": "Healthy"},
			"history":    history,
			"conditions": conditions,
			"operationState": map[string]any{
				"phase": "Failed", "startedAt": "2026-11-01T11:00:00Z", "finishedAt": "2026-11-01T11:01:00Z",
				"operation":  map[string]any{"sync": map[string]any{"revision": "def"}},
				"syncResult": map[string]any{"revision": "def"},
			},
		},
	}, trimmed.(*unstructured.Unstructured).Object)

	// What the readers take from the trimmed object is what they took from
	// the whole one.
	deployments := manifest.DeploymentsOf(trimmed.(*unstructured.Unstructured))
	require.Len(t, deployments, 2)
	require.Equal(t, "abc", deployments[0].Revision)
	require.Equal(t, "def", deployments[1].Revision)
}
