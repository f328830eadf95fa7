package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func object(fields map[string]any) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: fields}
	obj.SetName("orders-service-x")
	return obj
}

func readyCondition(status string) map[string]any {
	return map[string]any{"status": map[string]any{"conditions": []any{
		map[string]any{"type": "Ready", "status": status},
	}}}
}

// The steps are what Crossplane and Argo CD would do next; running them is
// kubetest's, tested there and, end to end, by the Backstage plugin's tests.
func TestClaimStepCreatesThenReadies(t *testing.T) {
	c := &controllers{}
	tests := []struct {
		name          string
		claim         map[string]any
		acts, delayed bool
	}{
		{"a new claim is Creating at once", map[string]any{}, true, false},
		{"a Creating claim is Ready after the delay", readyCondition("False"), true, true},
		{"a Ready claim is left alone", readyCondition("True"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step := c.claimStep(object(tt.claim))
			require.Equal(t, tt.acts, step.act != nil)
			require.Equal(t, tt.delayed, step.delayed)
		})
	}
}

func TestApplicationStepSyncsAsArgoCDWould(t *testing.T) {
	c := &controllers{}
	automated := map[string]any{"syncPolicy": map[string]any{"automated": map[string]any{"prune": true}}}
	synced := map[string]any{"sync": map[string]any{"status": "Synced"}}
	outOfSync := map[string]any{"sync": map[string]any{"status": "OutOfSync"}}
	tests := []struct {
		name          string
		app           map[string]any
		acts, delayed bool
	}{
		{"automated sync syncs after the delay", map[string]any{"spec": automated}, true, true},
		{"a synced automated Application is left alone", map[string]any{"spec": automated, "status": synced}, false, false},
		{"manual sync is compared at once", map[string]any{"spec": map[string]any{}}, true, false},
		{"manual sync then waits for an operation", map[string]any{"spec": map[string]any{}, "status": outOfSync}, false, false},
		{"a requested operation runs after the delay", map[string]any{
			"spec": map[string]any{}, "status": outOfSync, "operation": map[string]any{"sync": map[string]any{"revision": "v1"}},
		}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step := c.applicationStep(object(tt.app))
			require.Equal(t, tt.acts, step.act != nil)
			require.Equal(t, tt.delayed, step.delayed)
		})
	}
}

func TestProgramTBTurnsFatalFailuresIntoErrors(t *testing.T) {
	tb, err := newProgramTB()
	require.NoError(t, err)
	var cleaned []string
	tb.Cleanup(func() { cleaned = append(cleaned, "first") })
	tb.Cleanup(func() { cleaned = append(cleaned, "second") })

	err = tb.attempt(func(tb testing.TB) {
		tb.Fatalf("kubetest: %s", "no API server")
		t.Error("a fatal failure ends the helper")
	})
	require.EqualError(t, err, "kubetest: no API server")
	require.NoError(t, tb.attempt(func(testing.TB) {}))

	tb.Errorf("stop: %s", "timeout")
	require.EqualError(t, tb.finish(), "stop: timeout")
	require.Equal(t, []string{"second", "first"}, cleaned)
	require.NoDirExists(t, tb.tempDir)
}
