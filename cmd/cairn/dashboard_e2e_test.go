package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
)

// dashboardQueries returns every PromQL expression of the Grafana
// dashboard in deploy/grafana, by panel title.
func dashboardQueries(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "platform-metrics.json"))
	require.NoError(t, err)
	var dashboard struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dashboard))
	require.NotEmpty(t, dashboard.UID, "provisioned dashboards need a stable uid")
	queries := map[string][]string{}
	for _, panel := range dashboard.Panels {
		require.NotEmpty(t, panel.Targets, panel.Title)
		for _, target := range panel.Targets {
			require.NotEmpty(t, target.Expr, panel.Title)
			queries[panel.Title] = append(queries[panel.Title], target.Expr)
		}
	}
	return queries
}

// exportedMetrics scrapes p's /metrics and returns the names a query can
// select: each family's, and for histograms and summaries their series'.
func exportedMetrics(t *testing.T, p *cairnProcess) []string {
	t.Helper()
	resp, err := http.Get("http://" + p.httpAddr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	text := expfmt.NewTextParser(model.LegacyValidation)
	families, err := text.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	var names []string
	for name, family := range families {
		names = append(names, name)
		switch family.GetType().String() {
		case "HISTOGRAM":
			names = append(names, name+"_bucket", name+"_sum", name+"_count")
		case "SUMMARY":
			names = append(names, name+"_sum", name+"_count")
		}
	}
	slices.Sort(names)
	return names
}

func TestGrafanaDashboardQueriesParseAndNameOnlyMetricsCairnExports(t *testing.T) {
	env := kubetest.Shared(t)
	env.CreateNamespace(t, "team-dashboards")
	p := launchCairnWithConfig(t, engines[0].storeURL(t), writeConfig(t, ""), "--kubeconfig", env.Kubeconfig(t))
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	// One of each event, so that every labelled series exists.
	finished := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	for _, call := range []struct{ path, body string }{
		{"/v1/services", `{"name": "grafana-feed", "owner": "group:default/team-dashboards", "database": "none",
  "repositoryUrl": "https://github.com/company/grafana-feed.git"}`},
		{"/v1/deployments", deploymentJSON("grafana-feed", "v1", "succeeded", finished)},
		{"/v1/deployments", deploymentJSON("grafana-feed", "v2", "failed", finished.Add(time.Minute))},
		{"/v1/supportTickets", fmt.Sprintf(`{"id": "PLAT-1", "category": "provisioning", "team": "team-dashboards", "openedAt": %q}`, finished.Format(time.RFC3339))},
	} {
		r := p.rest(t, "POST", call.path, strings.NewReader(call.body))
		require.Equal(t, http.StatusOK, r.status, "%s: %s", call.path, r.raw)
	}
	exported := exportedMetrics(t, p)

	promql := parser.NewParser(parser.Options{})
	for title, queries := range dashboardQueries(t) {
		for _, query := range queries {
			t.Run(title, func(t *testing.T) {
				expr, err := promql.ParseExpr(query)
				require.NoError(t, err, query)
				var selected []string
				parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
					if vs, ok := node.(*parser.VectorSelector); ok {
						selected = append(selected, vs.Name)
					}
					return nil
				})
				require.NotEmpty(t, selected, query)
				for _, name := range selected {
					require.Contains(t, exported, name, "%q selects a metric Cairn does not export", query)
				}
			})
		}
	}
}

// deploymentJSON is a production deployment of one commit made a day before.
func deploymentJSON(service, revision, status string, finished time.Time) string {
	return fmt.Sprintf(`{"service": %q, "environment": "production", "revision": %q, "status": %q,
  "startedAt": %q, "finishedAt": %q, "commits": [{"sha": "c0ffee%s", "committedAt": %q}]}`,
		service, revision, status, finished.Add(-5*time.Minute).Format(time.RFC3339), finished.Format(time.RFC3339),
		revision, finished.Add(-24*time.Hour).Format(time.RFC3339))
}
