package main

// The evidence on a promotion and the budget guard, against the real
// binary on both engines: a team already past its budget asks for a first
// promotion into production; an approver's approval is refused, an admin's
// goes through, and the audit events keep the evidence.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/server/auth/authtest"
	"github.com/cairn-dev/cairn/store"
)

// seedTeamMonth bills service 5,100 USD on the first of this month and
// gives team-b a budget of 5,000: the team is past its budget whatever day
// of the month the test runs on.
func seedTeamMonth(t *testing.T, storeURL, service string) {
	t.Helper()
	ctx := t.Context()
	st, err := server.OpenStore(ctx, storeURL)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	_, err = st.ReplaceBilling(ctx, "e2e", func(yield func(store.BillingRow, error) bool) {
		yield(store.BillingRow{
			ChargePeriodStart: first, ChargePeriodEnd: first.Add(24 * time.Hour), ChargeCategory: "Usage",
			Service: service, ResourceID: service + "-db", ServiceName: "Amazon RDS", ServiceCategory: "Databases",
			Currency: "USD", BilledCost: 5_100_000_000, EffectiveCost: 5_100_000_000, ListCost: 5_100_000_000,
		}, nil)
	})
	require.NoError(t, err)
	_, err = st.PutBudget(ctx, store.Budget{Team: "team-b", MonthlyAmount: 5_000_000_000, Currency: "USD"})
	require.NoError(t, err)
}

func TestABudgetGuardedApprovalOverBudgetNeedsAnAdminAndTheAuditKeepsTheEvidence(t *testing.T) {
	env := kubetest.Shared(t)
	env.CreateNamespace(t, "team-b")
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			service := "budget-" + engine.name
			removeAfterTest(t, env, service)
			storeURL := engine.storeURL(t)
			seedTeamMonth(t, storeURL, service)
			iss := authtest.NewIssuer(t)
			config := writeConfig(t, fmt.Sprintf(`  backstage:
    jwksUrl: %s
    issuer: %s
    audience: %s
    approvers: [group:default/release-approvers]
    admins: [group:default/platform-admins]
`, iss.JWKSURL, iss.URL, authtest.Audience))
			p := launchCairnWithConfig(t, storeURL, config, "--kubeconfig", env.Kubeconfig(t), "--promotion-budget-guard")
			p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)

			zed := iss.Token(t, "user:default/zed", []string{"group:default/team-b"}, time.Hour)
			r := p.restAs(t, zed, "POST", "/v1/services", strings.NewReader(fmt.Sprintf(`{
  "name": %q, "owner": "group:default/team-b", "environments": ["staging", "production"],
  "repositoryUrl": "https://github.com/company/%s.git"}`, service, service)))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			r = p.restAs(t, zed, "POST", "/v1/services/"+service+"/promotions", strings.NewReader(`{"promotion": {"revision": "v1.0.0"}}`))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			promotion := r.body["name"].(string)
			evidence := r.body["evidence"].(map[string]any)
			// Production runs nothing yet: the planned workload, 2 replicas
			// of 100m CPU and 128Mi at the default prices, 6.721293 USD a
			// month (server/cost works it out).
			require.Equal(t, 6.721293, evidence["monthlyCostChange"])
			require.Equal(t, "first promotion into production, which runs nothing yet: its workload", evidence["costChangeBasis"])
			require.Equal(t, 5100.0, evidence["teamSpent"])
			require.GreaterOrEqual(t, evidence["teamProjected"], 5100.0)
			require.Equal(t, 5000.0, evidence["teamBudget"])
			require.Equal(t, true, evidence["projectedOverBudget"])
			require.Equal(t, "0", evidence["changeFailureDeployments"], "no deployment in 30 days")

			list := p.restAs(t, zed, "GET", "/v1/services/"+service+"/promotions", nil)
			require.Equal(t, http.StatusOK, list.status, list.raw)
			require.Equal(t, evidence, list.body["promotions"].([]any)[0].(map[string]any)["evidence"], "ListPromotions shows the evidence kept")

			ann := iss.Token(t, "user:default/ann", []string{"group:default/team-b", "group:default/release-approvers"}, time.Hour)
			r = p.restAs(t, ann, "POST", "/v1/"+promotion+":approve", strings.NewReader(`{}`))
			require.Equal(t, http.StatusBadRequest, r.status, r.raw)
			require.Equal(t, "BUDGET_PROJECTED_OVERRUN", r.body["details"].([]any)[0].(map[string]any)["reason"], r.raw)
			require.Contains(t, r.body["message"], "over its budget of 5000.00: approving it needs an admin")

			admin := iss.Token(t, "user:default/ada", []string{"group:default/team-b", "group:default/platform-admins"}, time.Hour)
			r = p.restAs(t, admin, "POST", "/v1/"+promotion+":approve", strings.NewReader(`{}`))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			require.Equal(t, "approved", r.body["state"])

			events := p.rest(t, "GET", "/v1/auditEvents?action=cairn.v1.ProvisioningService/ApprovePromotion", nil)
			require.Equal(t, http.StatusOK, events.status, events.raw)
			var details []string
			for _, e := range events.body["auditEvents"].([]any) {
				details = append(details, e.(map[string]any)["principal"].(string)+": "+e.(map[string]any)["detail"].(string))
			}
			require.Len(t, details, 2, events.raw)
			require.Contains(t, details, "user:default/ada: approved the promotion of v1.0.0 into production; evidence: cost +6.72 USD/month, team spent 5100.00, projected "+
				fmt.Sprintf("%.2f", evidence["teamProjected"])+" of budget 5000.00 (over), change failure rate: no deployments in 30d")
			require.Contains(t, details, "user:default/ann: refused approving the promotion of v1.0.0 into production: projected over budget, needs an admin; evidence: cost +6.72 USD/month, team spent 5100.00, projected "+
				fmt.Sprintf("%.2f", evidence["teamProjected"])+" of budget 5000.00 (over), change failure rate: no deployments in 30d")
		})
	}
}
