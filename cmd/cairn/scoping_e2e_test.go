package main

// Two teams' CI tokens against the real server: neither can squat, shadow
// or take over the other's incident ids, ticket ids, request ids or
// deleted service names.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
)

// The CI tokens of two teams: developers of team-a and of team-b.
const (
	teamAToken = "e2e-team-a-ci-4d1e"
	teamBToken = "e2e-team-b-ci-9a37"
)

func twoTeamsConfig(t *testing.T) string {
	t.Helper()
	return writeConfig(t, fmt.Sprintf(`    - name: team-a-ci
      sha256: %s
      roles: [developer]
      teams: [team-a]
    - name: team-b-ci
      sha256: %s
      roles: [developer]
      teams: [team-b]
`, tokenHash(teamAToken), tokenHash(teamBToken)))
}

func startTwoTeams(t *testing.T, storeURL string, args ...string) *cairnProcess {
	t.Helper()
	p := launchCairnWithConfig(t, storeURL, twoTeamsConfig(t), args...)
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	return p
}

func registerAs(t *testing.T, p *cairnProcess, token, name, team string) restResponse {
	t.Helper()
	return p.restAs(t, token, "POST", "/v1/services:register", strings.NewReader(fmt.Sprintf(
		`{"service": {"name": "services/%s", "type": "service", "lifecycle": "production", "owner": "group:default/%s"}}`, name, team)))
}

func incidentBody(service, id string, opened time.Time) *strings.Reader {
	return strings.NewReader(fmt.Sprintf(`{"id": %q, "service": %q, "openedAt": %q}`, id, service, opened.Format(time.RFC3339)))
}

func resolveBody(at time.Time) *strings.Reader {
	return strings.NewReader(fmt.Sprintf(`{"resolvedAt": %q}`, at.Format(time.RFC3339)))
}

// errorReason is the ErrorInfo reason of a REST error.
func errorReason(t *testing.T, r restResponse) string {
	t.Helper()
	details, _ := r.body["details"].([]any)
	for _, d := range details {
		if reason, ok := d.(map[string]any)["reason"].(string); ok {
			return reason
		}
	}
	t.Fatalf("no ErrorInfo in %s", r.raw)
	return ""
}

func TestOneTeamCannotSquatAnotherTeamsIncidentAndTicketIDs(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) { testSquattedIDs(t, engine.storeURL(t)) })
	}
}

func testSquattedIDs(t *testing.T, storeURL string) {
	p := startTwoTeams(t, storeURL)
	for name, team := range map[string]string{"svc-a1": "team-a", "svc-b1": "team-b"} {
		r := registerAs(t, p, adminToken, name, team)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	opened := time.Now().UTC().Truncate(time.Second).Add(-2 * time.Hour)

	t.Run("AnIncidentIDTakenByAnotherTeamIsStillRecorded", func(t *testing.T) {
		r := p.restAs(t, teamAToken, "POST", "/v1/incidents", incidentBody("svc-a1", "INC-1043", opened))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, true, r.body["created"])
		require.Equal(t, "services/svc-a1/incidents/INC-1043", r.body["name"])

		r = p.restAs(t, teamBToken, "POST", "/v1/incidents", incidentBody("svc-b1", "INC-1043", opened))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, true, r.body["created"], "team-b's real incident is not shadowed by team-a's")
		require.Equal(t, "services/svc-b1/incidents/INC-1043", r.body["name"])

		r = p.restAs(t, teamBToken, "POST", "/v1/incidents", incidentBody("svc-b1", "INC-1043", opened))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, false, r.body["created"], "a retry of the caller's own incident")

		r = p.restAs(t, teamAToken, "POST", "/v1/incidents", incidentBody("svc-b1", "INC-1044", opened))
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
	})

	t.Run("EachTeamResolvesItsOwnIncidentOfTheID", func(t *testing.T) {
		r := p.restAs(t, teamBToken, "POST", "/v1/incidents/INC-1043:resolve", resolveBody(opened.Add(time.Hour)))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		r = p.restAs(t, teamAToken, "POST", "/v1/services/svc-a1/incidents/INC-1043:resolve", resolveBody(opened.Add(30*time.Minute)))
		require.Equal(t, http.StatusOK, r.status, "team-a's incident was still open: %s", r.raw)

		dora := p.rest(t, "GET", "/v1/services/svc-b1/dora", nil)
		require.Equal(t, http.StatusOK, dora.status, dora.raw)
		require.InDelta(t, time.Hour.Seconds(), dora.body["timeToRestore"].(map[string]any)["value"], 1e-9, dora.raw)
	})

	t.Run("AnotherTeamsIncidentIsNeverRevealedNorResolved", func(t *testing.T) {
		r := p.restAs(t, teamBToken, "POST", "/v1/incidents", incidentBody("svc-b1", "INC-2000", opened))
		require.Equal(t, http.StatusOK, r.status, r.raw)

		r = p.restAs(t, teamAToken, "POST", "/v1/incidents/INC-2000:resolve", resolveBody(opened.Add(time.Hour)))
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		r = p.restAs(t, teamAToken, "POST", "/v1/incidents/INC-2001:resolve", resolveBody(opened.Add(time.Hour)))
		require.Equal(t, http.StatusNotFound, r.status, "alike whether it exists or not: %s", r.raw)
		for _, id := range []string{"INC-2000", "INC-2001"} {
			r = p.restAs(t, teamAToken, "POST", "/v1/services/svc-b1/incidents/"+id+":resolve", resolveBody(opened.Add(time.Hour)))
			require.Equal(t, http.StatusForbidden, r.status, "%s: %s", id, r.raw)
		}
		r = p.restAs(t, teamBToken, "POST", "/v1/incidents/INC-2000:resolve", resolveBody(opened.Add(time.Hour)))
		require.Equal(t, http.StatusOK, r.status, "team-b's incident is open still: %s", r.raw)
	})

	t.Run("AShortNameOfSeveralIncidentsAsksForTheFullName", func(t *testing.T) {
		for _, service := range []string{"svc-a1", "svc-b1"} {
			r := p.rest(t, "POST", "/v1/incidents", incidentBody(service, "INC-7", opened))
			require.Equal(t, http.StatusOK, r.status, r.raw)
		}
		r := p.rest(t, "POST", "/v1/incidents/INC-7:resolve", resolveBody(opened.Add(time.Hour)))
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		require.Equal(t, "INCIDENT_AMBIGUOUS", errorReason(t, r))
		require.Contains(t, r.raw, "services/svc-a1/incidents/INC-7")

		r = p.rest(t, "POST", "/v1/services/svc-a1/incidents/INC-7:resolve", resolveBody(opened.Add(time.Hour)))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		// Each team has one INC-7 it may change.
		r = p.restAs(t, teamBToken, "POST", "/v1/incidents/INC-7:resolve", resolveBody(opened.Add(time.Hour)))
		require.Equal(t, http.StatusOK, r.status, r.raw)
	})

	t.Run("ATicketIDTakenByAnotherTeamOrCallerIsStillRecorded", func(t *testing.T) {
		ticket := func(id, team string) *strings.Reader {
			return strings.NewReader(fmt.Sprintf(`{"id": %q, "category": "ci", "team": %q, "openedAt": %q}`,
				id, team, opened.Format(time.RFC3339)))
		}
		for _, call := range []struct {
			token, id, team string
			created         bool
		}{
			{teamAToken, "SUP-1", "team-a", true},
			{teamBToken, "SUP-1", "team-b", true},
			{teamBToken, "SUP-1", "team-b", false},
			{teamAToken, "SUP-9", "", true},
			{teamBToken, "SUP-9", "", true},
			{teamBToken, "SUP-9", "", false},
		} {
			r := p.restAs(t, call.token, "POST", "/v1/supportTickets", ticket(call.id, call.team))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			require.Equal(t, call.created, r.body["created"], "%s of %q: %s", call.id, call.team, r.raw)
		}
		r := p.restAs(t, teamAToken, "POST", "/v1/supportTickets", ticket("SUP-2", "team-b"))
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
	})
}

func TestADeletedServiceNameKeepsItsHistoryWithItsTeam(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) { testRetiredName(t, engine.storeURL(t)) })
	}
}

func testRetiredName(t *testing.T, storeURL string) {
	p := startTwoTeams(t, storeURL)
	require.Equal(t, http.StatusOK, registerAs(t, p, teamAToken, "svc-a1", "team-a").status)
	r := registerAs(t, p, teamBToken, "svc-b1", "team-b")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	finished := time.Now().UTC().Truncate(time.Second).Add(-3 * time.Hour)
	r = p.restAs(t, teamBToken, "POST", "/v1/deployments", deploymentBody("svc-b1", "v1", "succeeded", finished, time.Hour))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = p.restAs(t, teamBToken, "POST", "/v1/incidents", incidentBody("svc-b1", "INC-1", finished))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = p.restAs(t, teamBToken, "DELETE", "/v1/services/svc-b1", nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)

	deployments := func(t *testing.T, path string) float64 {
		t.Helper()
		r := p.rest(t, "GET", path, nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		return asNumber(r.body["deploymentFrequency"].(map[string]any)["sampleCount"])
	}

	t.Run("AnotherTeamCannotRegisterTheName", func(t *testing.T) {
		r := registerAs(t, p, teamAToken, "svc-b1", "team-a")
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		require.Equal(t, "SERVICE_NAME_RETIRED", errorReason(t, r))
		require.Contains(t, r.raw, `team \"team-b\"`)
		require.Contains(t, r.raw, "an admin may transfer it")
		require.Equal(t, http.StatusNotFound, p.rest(t, "GET", "/v1/services/svc-b1", nil).status)
	})

	t.Run("AnotherTeamCannotWriteOrResolveTheNamesEvents", func(t *testing.T) {
		r := p.restAs(t, teamAToken, "POST", "/v1/incidents/INC-1:resolve", resolveBody(finished.Add(time.Hour)))
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		r = p.restAs(t, teamAToken, "POST", "/v1/services/svc-b1/incidents/INC-1:resolve", resolveBody(finished.Add(time.Hour)))
		require.Equal(t, http.StatusForbidden, r.status, r.raw)
		r = p.restAs(t, teamAToken, "POST", "/v1/deployments", deploymentBody("svc-b1", "v2", "failed", finished, time.Hour))
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		r = p.restAs(t, teamAToken, "POST", "/v1/incidents", incidentBody("svc-b1", "INC-2", finished))
		require.Equal(t, http.StatusNotFound, r.status, r.raw)
		require.Zero(t, deployments(t, "/v1/teams/team-a/dora"))
	})

	t.Run("ItsTeamRegistersItAgainAndGetsItsHistoryBack", func(t *testing.T) {
		r := registerAs(t, p, teamBToken, "svc-b1", "team-b")
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, float64(1), deployments(t, "/v1/services/svc-b1/dora"))
		require.Equal(t, float64(1), deployments(t, "/v1/teams/team-b/dora"))
		r = p.restAs(t, teamBToken, "DELETE", "/v1/services/svc-b1", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	})

	t.Run("AnAdminTransfersTheNameWithItsHistoryAndIsAudited", func(t *testing.T) {
		r := registerAs(t, p, adminToken, "svc-b1", "team-a")
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, float64(1), deployments(t, "/v1/teams/team-a/dora"))
		r = p.restAs(t, teamAToken, "POST", "/v1/incidents/INC-1:resolve", resolveBody(finished.Add(time.Hour)))
		require.Equal(t, http.StatusOK, r.status, r.raw)

		r = p.rest(t, "GET", "/v1/auditEvents?target=services/svc-b1", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		var actions []string
		for _, e := range r.body["auditEvents"].([]any) {
			event := e.(map[string]any)
			if event["principal"] == "e2e-admin" {
				actions = append(actions, event["action"].(string))
			}
		}
		require.Contains(t, actions, `TransferServiceName from team "team-b" to team "team-a"`)
	})
}

func TestCreateServiceRequestIDsAreEachCallersOwn(t *testing.T) {
	env := kubetest.Shared(t)
	for _, ns := range []string{"team-a", "team-b"} {
		env.CreateNamespace(t, ns)
	}
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			testCreateServiceScoping(t, startTwoTeams(t, engine.storeURL(t), "--kubeconfig", env.Kubeconfig(t)))
		})
	}
}

func testCreateServiceScoping(t *testing.T, p *cairnProcess) {
	create := func(token, name, team, requestID string) restResponse {
		t.Helper()
		return p.restAs(t, token, "POST", "/v1/services", strings.NewReader(fmt.Sprintf(
			`{"name": %q, "owner": "group:default/%s", "environments": ["staging"], "repositoryUrl": "https://github.com/company/%s.git", "requestId": %q}`, name, team, name, requestID)))
	}

	t.Run("AnotherCallersRequestIDIsANewRequest", func(t *testing.T) {
		r := create(teamAToken, "svc-a1", "team-a", "req-1")
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "svc-a1", r.body["service"])

		r = create(teamBToken, "svc-b2", "team-b", "req-1")
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "svc-b2", r.body["service"], "not team-a's record")
		svc := p.rest(t, "GET", "/v1/services/svc-b2", nil)
		require.Equal(t, http.StatusOK, svc.status, "team-b's service was created: %s", svc.raw)

		r = create(teamAToken, "svc-a1", "team-a", "req-1")
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, "svc-a1", r.body["service"], "a retry returns the caller's first record")
	})

	t.Run("ANameAnotherTeamHoldsIsRefused", func(t *testing.T) {
		require.Equal(t, http.StatusOK, registerAs(t, p, teamBToken, "svc-b3", "team-b").status)
		r := create(teamAToken, "svc-b3", "team-a", "")
		require.Equal(t, http.StatusConflict, r.status, r.raw)
		require.Equal(t, "SERVICE_EXISTS", errorReason(t, r))

		require.Equal(t, http.StatusOK, p.restAs(t, teamBToken, "DELETE", "/v1/services/svc-b3", nil).status)
		r = create(teamAToken, "svc-b3", "team-a", "")
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		require.Equal(t, "SERVICE_NAME_RETIRED", errorReason(t, r))
		require.Equal(t, http.StatusNotFound, p.rest(t, "GET", "/v1/services/svc-b3", nil).status)

		r = p.rest(t, "POST", "/v1/services", strings.NewReader(`{"name": "svc-b3", "owner": "group:default/team-a",
			"environments": ["staging"], "repositoryUrl": "https://github.com/company/svc-b3.git"}`))
		require.Equal(t, http.StatusOK, r.status, "an admin transfers the name: %s", r.raw)
		svc := p.rest(t, "GET", "/v1/services/svc-b3", nil)
		require.Equal(t, http.StatusOK, svc.status, svc.raw)
		require.Equal(t, "team-a", svc.body["team"])
	})
}
