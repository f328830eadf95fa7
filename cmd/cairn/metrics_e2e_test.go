package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// A CI pipeline's token: a developer of team-y, which owns search-api but
// not orders-service.
const searchCIToken = "e2e-search-ci-52b7"

func metricsConfig(t *testing.T) string {
	t.Helper()
	return writeConfig(t, fmt.Sprintf(`    - name: search-ci
      sha256: %s
      roles: [developer]
      teams: [team-y]
`, tokenHash(searchCIToken)))
}

// deploymentBody is POST /v1/deployments's body for a production deployment
// of service that finished at finished, after ten minutes, shipping one
// commit made leadTime before.
func deploymentBody(service, revision, status string, finished time.Time, leadTime time.Duration) *strings.Reader {
	return strings.NewReader(fmt.Sprintf(`{
  "service": %q, "environment": "production", "revision": %q, "status": %q,
  "startedAt": %q, "finishedAt": %q,
  "commits": [{"sha": "9f2c1e7a", "committedAt": %q}]}`,
		service, revision, status,
		finished.Add(-10*time.Minute).Format(time.RFC3339), finished.Format(time.RFC3339),
		finished.Add(-leadTime).Format(time.RFC3339)))
}

func TestDeploymentsAndIncidentsFeedDoraOverREST(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) { testMetricsOverREST(t, engine.storeURL(t)) })
	}
}

func testMetricsOverREST(t *testing.T, storeURL string) {
	p := launchCairnWithConfig(t, storeURL, metricsConfig(t))
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	for name, team := range map[string]string{"orders-service": "team-x", "search-api": "team-y"} {
		r := p.rest(t, "POST", "/v1/services:register", strings.NewReader(fmt.Sprintf(
			`{"service": {"name": "services/%s", "type": "service", "lifecycle": "production", "owner": "%s"}}`, name, team)))
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	// Whole seconds, as RFC 3339 bodies carry them; an hour back, so that
	// the window ending at the server's now holds everything.
	finished := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)

	requireDora := func(t *testing.T, path string, deployments, failureRate, leadTime float64) map[string]any {
		t.Helper()
		r := p.rest(t, "GET", path, nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "30d", r.body["window"])
		for _, metric := range []string{"deploymentFrequency", "leadTimeForChanges", "changeFailureRate", "timeToRestore"} {
			m, ok := r.body[metric].(map[string]any)
			require.True(t, ok, "%s missing: %s", metric, r.raw)
			require.Contains(t, m, "value", metric)
			require.Contains(t, m, "band", metric)
			require.Contains(t, m, "previousValue", metric)
		}
		frequency := r.body["deploymentFrequency"].(map[string]any)
		require.InDelta(t, deployments/30, frequency["value"], 1e-9, r.raw)
		require.Equal(t, deployments, asNumber(frequency["sampleCount"]), r.raw)
		require.InDelta(t, failureRate, r.body["changeFailureRate"].(map[string]any)["value"], 1e-9, r.raw)
		require.InDelta(t, leadTime, r.body["leadTimeForChanges"].(map[string]any)["value"], 1e-9, r.raw)
		return r.body
	}

	t.Run("RecordingADeploymentTwiceCreatesItOnce", func(t *testing.T) {
		r := p.rest(t, "POST", "/v1/deployments", deploymentBody("orders-service", "v1.4.0", "succeeded", finished, 3*time.Hour))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, true, r.body["created"], r.raw)
		r = p.rest(t, "POST", "/v1/deployments", deploymentBody("orders-service", "v1.4.0", "succeeded", finished, 3*time.Hour))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, false, r.body["created"], r.raw)
	})

	t.Run("ServiceDoraCarriesEachMetricWithItsValueAndBand", func(t *testing.T) {
		body := requireDora(t, "/v1/services/orders-service/dora?window=30d", 1, 0, (3 * time.Hour).Seconds())
		frequency := body["deploymentFrequency"].(map[string]any)
		require.Equal(t, "deploys_per_day", frequency["unit"])
		require.Equal(t, "medium", frequency["band"], "once in 30 days")
		require.Equal(t, "elite", body["leadTimeForChanges"].(map[string]any)["band"], "three hours")
		require.Equal(t, "elite", body["changeFailureRate"].(map[string]any)["band"])
		require.Equal(t, "", body["timeToRestore"].(map[string]any)["band"], "no incident resolved")
	})

	t.Run("AnIncidentNamingTheRevisionCountsAsAFailureAndItsRestoreTime", func(t *testing.T) {
		opened := finished.Add(10 * time.Minute)
		r := p.rest(t, "POST", "/v1/incidents", strings.NewReader(fmt.Sprintf(
			`{"id": "INC-1042", "service": "orders-service", "openedAt": %q, "causeRevision": "v1.4.0"}`, opened.Format(time.RFC3339))))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, true, r.body["created"], r.raw)
		resolve := fmt.Sprintf(`{"resolvedAt": %q}`, opened.Add(40*time.Minute).Format(time.RFC3339))
		r = p.rest(t, "POST", "/v1/incidents/INC-1042:resolve", strings.NewReader(resolve))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		r = p.rest(t, "POST", "/v1/incidents/INC-1042:resolve", strings.NewReader(resolve))
		require.Equal(t, http.StatusOK, r.status, "resolving again at the same time: %s", r.raw)
		r = p.rest(t, "POST", "/v1/incidents/INC-1042:resolve", strings.NewReader(fmt.Sprintf(
			`{"resolvedAt": %q}`, opened.Add(time.Hour).Format(time.RFC3339))))
		require.Equal(t, http.StatusBadRequest, r.status, "FAILED_PRECONDITION: %s", r.raw)
		require.Contains(t, r.body["message"], "resolved at")

		body := requireDora(t, "/v1/services/orders-service/dora", 1, 1, (3 * time.Hour).Seconds())
		restore := body["timeToRestore"].(map[string]any)
		require.InDelta(t, (40 * time.Minute).Seconds(), restore["value"], 1e-9)
		require.Equal(t, "elite", restore["band"])
		require.Equal(t, "low", body["changeFailureRate"].(map[string]any)["band"], "one failure in one deployment")
	})

	t.Run("BadInputIs400WithFieldViolationsAndChangesNothing", func(t *testing.T) {
		tests := []struct {
			name   string
			body   string
			fields []string
		}{
			{"a status outside succeeded and failed", strings.Replace(readAll(deploymentBody("orders-service", "v2", "succeeded", finished, time.Hour)), `"succeeded"`, `"rolled-back"`, 1), []string{"status"}},
			{"no start and an environment in capitals", `{"service": "orders-service", "environment": "Production", "revision": "v2", "status": "succeeded", "finishedAt": "` + finished.Format(time.RFC3339) + `"}`, []string{"environment", "started_at"}},
			{"a commit made after the deployment finished", readAll(deploymentBody("orders-service", "v2", "succeeded", finished, -time.Hour)), []string{"commits[0].committed_at"}},
			{"a service name that is not a DNS label", readAll(deploymentBody("Orders_Service", "v2", "succeeded", finished, time.Hour)), []string{"service"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := p.rest(t, "POST", "/v1/deployments", strings.NewReader(tt.body))
				require.Equal(t, http.StatusBadRequest, r.status, r.raw)
				require.Equal(t, tt.fields, fieldViolations(t, r), r.raw)
			})
		}
		r := p.rest(t, "POST", "/v1/deployments", strings.NewReader(`{"service": "orders-service", "deployedBy": "jane"}`))
		require.Equal(t, http.StatusBadRequest, r.status, "an unknown field: %s", r.raw)
		r = p.rest(t, "GET", "/v1/services/orders-service/dora?window=2w", nil)
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		require.Equal(t, []string{"window"}, fieldViolations(t, r))

		requireDora(t, "/v1/services/orders-service/dora", 1, 1, (3 * time.Hour).Seconds())
	})

	t.Run("ADeveloperRecordsDeploymentsOfTheirOwnTeamsServicesOnly", func(t *testing.T) {
		r := p.restAs(t, searchCIToken, "POST", "/v1/deployments", deploymentBody("orders-service", "v9", "failed", finished, time.Hour))
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
		r = p.restAs(t, searchCIToken, "POST", "/v1/deployments", deploymentBody("search-api", "s1", "failed", finished, time.Hour))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, true, r.body["created"], r.raw)
	})

	t.Run("TeamAndOrganisationDoraCoverTheirServices", func(t *testing.T) {
		requireDora(t, "/v1/teams/team-x/dora", 1, 1, (3 * time.Hour).Seconds())
		// search-api's failed deployment: no success, one more failure.
		requireDora(t, "/v1/teams/team-y/dora", 0, 1, 0)
		requireDora(t, "/v1/dora?window=30d", 1, 1, (3 * time.Hour).Seconds())
		r := p.rest(t, "GET", "/v1/teams/team-nobody/dora", nil)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		r = p.rest(t, "GET", "/v1/services/ghost/dora", nil)
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
	})

	t.Run("TheDrillDownListsWhatTheFiguresCountAndACorrectionMovesThem", func(t *testing.T) {
		r := p.rest(t, "GET", "/v1/teams/team-x/deployments?pageSize=1000", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		deployments := r.body["deployments"].([]any)
		require.Len(t, deployments, 1, r.raw)
		d := deployments[0].(map[string]any)
		require.Equal(t, "v1.4.0", d["revision"])
		require.Equal(t, true, d["production"])
		require.Equal(t, "10800s", d["commits"].([]any)[0].(map[string]any)["leadTime"], "three hours")
		require.Equal(t, "named", d["incidents"].([]any)[0].(map[string]any)["link"])

		r = p.rest(t, "GET", "/v1/services/orders-service/incidents?state=resolved", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		incident := r.body["incidents"].([]any)[0].(map[string]any)
		require.Equal(t, "services/orders-service/incidents/INC-1042", incident["name"])
		require.Equal(t, "v1.4.0", incident["deployment"].(map[string]any)["revision"])
		// Another team's developer reads the lists, as the figures, but
		// does not correct a charge.
		r = p.restAs(t, searchCIToken, "GET", "/v1/services/orders-service/incidents", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		r = p.restAs(t, searchCIToken, "POST", "/v1/services/orders-service/incidents/INC-1042:link", strings.NewReader(`{}`))
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
		r = p.rest(t, "GET", "/v1/services/orders-service/deployments?finishedAfter=2020-01-01T00:00:00Z", nil)
		require.Equal(t, http.StatusBadRequest, r.status, "a range past 366 days: %s", r.raw)

		r = p.rest(t, "POST", "/v1/services/orders-service/incidents/INC-1042:link", strings.NewReader(`{}`))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "corrected", r.body["link"], r.raw)
		requireDora(t, "/v1/services/orders-service/dora", 1, 0, (3 * time.Hour).Seconds())
	})

	t.Run("LeadTimesAreExportedToPrometheusOncePerCommit", func(t *testing.T) {
		r := p.rest(t, "GET", "/metrics", nil)
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, r.raw, `platform_lead_time_seconds_count{service="orders-service",team="team-x"} 1`)
		require.NotContains(t, r.raw, `platform_lead_time_seconds_count{service="search-api"`, "failed deployments deliver nothing")
	})
}

func readAll(r *strings.Reader) string {
	var b strings.Builder
	r.WriteTo(&b)
	return b.String()
}
