package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube"
)

// TestArgoCDHistoryBecomesDeploymentsExactlyOnce writes what Argo CD writes
// when syncs of a service's production Application succeed or fail, and
// checks that Cairn records each as one deployment: while running, after a
// SIGKILL and restart (which replays every history entry), and when Argo CD
// notifications report the same deployment through the webhook template in
// deploy/argocd.
func TestArgoCDHistoryBecomesDeploymentsExactlyOnce(t *testing.T) {
	env := kubetest.Start(t)
	env.CreateNamespace(t, "team-orders")
	config, kubeconfig, storeURL := provisioningConfig(t), env.Kubeconfig(t), engines[0].storeURL(t)
	p := launchCairnWithConfig(t, storeURL, config, "--kubeconfig", kubeconfig)
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	r := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", createBody("orders-service", "argocd-1"))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Eventually(t, func() bool { return len(objectsOnCluster(t, env, "orders-service")) == 4 },
		60*time.Second, 100*time.Millisecond, "the Applications did not appear")

	const production = "orders-service-production"
	// requireDeployments waits until the service's production deployments
	// in the window are succeeded and failed, then checks they stay so.
	requireDeployments := func(t *testing.T, p *cairnProcess, succeeded, failed int) {
		t.Helper()
		total := float64(succeeded + failed)
		matches := func() (bool, string) {
			r := p.rest(t, "GET", "/v1/services/orders-service/dora", nil)
			if r.status != http.StatusOK {
				return false, r.raw
			}
			frequency, _ := r.body["deploymentFrequency"].(map[string]any)
			failureRate, _ := r.body["changeFailureRate"].(map[string]any)
			return frequency["value"] == float64(succeeded)/30 && failureRate["value"] == float64(failed)/total, r.raw
		}
		// A restarted process waits out the killed leader's Lease first.
		deadline := time.Now().Add(kube.LeaseDuration + 60*time.Second)
		ok, raw := matches()
		for ; !ok && time.Now().Before(deadline); ok, raw = matches() {
			time.Sleep(200 * time.Millisecond)
		}
		require.True(t, ok, "want %d succeeded and %d failed: %s", succeeded, failed, raw)
		time.Sleep(time.Second) // a duplicate would land within the intake's next pass
		ok, raw = matches()
		require.True(t, ok, "want %d succeeded and %d failed, still: %s", succeeded, failed, raw)
	}

	env.MarkApplicationSynced(t, production, "r1")
	time.Sleep(1100 * time.Millisecond) // the next sync starts in a later second, as real ones do
	env.MarkApplicationSynced(t, production, "r2")
	time.Sleep(1100 * time.Millisecond)
	env.FailApplicationSync(t, production, "r3", "")
	requireDeployments(t, p, 2, 1)

	// Killed and restarted, Cairn reads the whole history again.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.exited
	p = launchCairnWithConfig(t, storeURL, config, "--kubeconfig", kubeconfig)
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	time.Sleep(1100 * time.Millisecond)
	env.MarkApplicationSynced(t, production, "r4")
	requireDeployments(t, p, 3, 1)

	// Argo CD notifications report the last deployment too: the same key,
	// which adds the deployed commit the history lacks, once, however often
	// the notification is sent.
	body := renderNotification(t, "template.cairn-deployment-succeeded", env.Application(t, production).Object)
	for range 2 {
		r = p.restAs(t, ordersDeveloperToken, "POST", "/v1/deployments", bytes.NewReader(body))
		require.Equal(t, http.StatusOK, r.status, "%s\n%s", body, r.raw)
		require.NotEqual(t, true, r.body["created"], "the notification duplicated the informer's deployment: %s", body)
		r = p.rest(t, "GET", "/v1/services/orders-service/dora", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		leadTime, _ := r.body["leadTimeForChanges"].(map[string]any)
		require.Equal(t, "1", leadTime["sampleCount"], "the notification's commit, as the lead time's one sample: %s", r.raw)
	}
	requireDeployments(t, p, 3, 1)
}

// renderNotification renders a webhook body of deploy/argocd's
// notifications ConfigMap for app as Argo CD notifications would: a Go
// template over the Application, with the repository service answering
// commit metadata (here, a commit made an hour before).
func renderNotification(t *testing.T, key string, app map[string]any) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "argocd", "notifications.yaml"))
	require.NoError(t, err)
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &cm))
	var tmpl struct {
		Webhook map[string]struct {
			Method string `yaml:"method"`
			Path   string `yaml:"path"`
			Body   string `yaml:"body"`
		} `yaml:"webhook"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(cm.Data[key]), &tmpl), key)
	hook := tmpl.Webhook["cairn"]
	require.Equal(t, "POST", hook.Method)
	require.Equal(t, "/v1/deployments", hook.Path)
	type commitMetadata struct{ Date time.Time }
	repo := map[string]any{"GetCommitMetadata": func(string) commitMetadata {
		return commitMetadata{Date: time.Now().Add(-time.Hour).Truncate(time.Second)}
	}}
	body := template.Must(template.New(key).Option("missingkey=error").Parse(hook.Body))
	var out bytes.Buffer
	require.NoError(t, body.Execute(&out, map[string]any{"app": app, "repo": repo}))
	return out.Bytes()
}
