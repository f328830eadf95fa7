package manifest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func application(labels map[string]any, status map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "orders-staging", "namespace": "argocd", "labels": labels},
		"status":   status,
	}}
}

var cairnLabels = map[string]any{LabelName: "orders", LabelEnvironment: "staging"}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDeploymentsOfAnApplicationAreItsHistoryThenItsFailedSync(t *testing.T) {
	app := application(cairnLabels, map[string]any{
		"history": []any{
			map[string]any{"id": int64(3), "revision": "aaa", "deployStartedAt": "2026-11-02T10:00:00Z", "deployedAt": "2026-11-02T10:01:30Z"},
			// Written by an Argo CD without deployStartedAt.
			map[string]any{"id": int64(4), "revision": "bbb", "deployedAt": "2026-11-03T09:00:00Z"},
			map[string]any{"id": int64(5), "revision": "", "deployedAt": "2026-11-03T09:30:00Z"},
		},
		"operationState": map[string]any{
			"phase": "Failed", "startedAt": "2026-11-04T08:00:00Z", "finishedAt": "2026-11-04T08:02:00Z",
			"operation":  map[string]any{"sync": map[string]any{"revision": "ccc"}},
			"syncResult": map[string]any{"revision": "ccc123"},
		},
	})
	require.Equal(t, []Deployment{
		{Service: "orders", Environment: "staging", Revision: "aaa", Succeeded: true,
			StartedAt: at("2026-11-02T10:00:00Z"), FinishedAt: at("2026-11-02T10:01:30Z"), HistoryID: 3},
		{Service: "orders", Environment: "staging", Revision: "bbb", Succeeded: true,
			StartedAt: at("2026-11-03T09:00:00Z"), FinishedAt: at("2026-11-03T09:00:00Z"), HistoryID: 4},
		{Service: "orders", Environment: "staging", Revision: "ccc123",
			StartedAt: at("2026-11-04T08:00:00Z"), FinishedAt: at("2026-11-04T08:02:00Z"), HistoryID: -1},
	}, DeploymentsOf(app))
}

func TestDeploymentsOfAnApplicationLeaveOutWhatIsNotADeployment(t *testing.T) {
	history := []any{map[string]any{"id": int64(0), "revision": "aaa", "deployedAt": "2026-11-02T10:00:00Z"}}
	for _, tc := range []struct {
		name string
		app  *unstructured.Unstructured
		want int
	}{
		{"no service label", application(map[string]any{LabelEnvironment: "staging"}, map[string]any{"history": history}), 0},
		{"no environment label", application(map[string]any{LabelName: "orders"}, map[string]any{"history": history}), 0},
		{"no status", application(cairnLabels, nil), 0},
		{"a sync still running", application(cairnLabels, map[string]any{"history": history,
			"operationState": map[string]any{"phase": "Running", "startedAt": "2026-11-04T08:00:00Z", "syncResult": map[string]any{"revision": "b"}}}), 1},
		{"a sync that succeeded", application(cairnLabels, map[string]any{"history": history,
			"operationState": map[string]any{"phase": "Succeeded", "startedAt": "2026-11-02T10:00:00Z", "syncResult": map[string]any{"revision": "aaa"}}}), 1},
		{"a failed sync without a start", application(cairnLabels, map[string]any{
			"operationState": map[string]any{"phase": "Error", "syncResult": map[string]any{"revision": "b"}}}), 0},
		{"a malformed time", application(cairnLabels, map[string]any{
			"history": []any{map[string]any{"id": int64(0), "revision": "aaa", "deployedAt": "yesterday"}}}), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Len(t, DeploymentsOf(tc.app), tc.want)
		})
	}
}
