package provisioning

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/cairn-dev/cairn/server/audit"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// fixedEvidence answers the evidence it holds, and records what it was
// asked about: the evidence's own figures are computed and tested in
// server/cost and server/evidence.
type fixedEvidence struct {
	evidence store.PromotionEvidence
	asked    []string // environment@running
}

func (f *fixedEvidence) PromotionEvidence(_ context.Context, _ store.Provisioning, env, running string) (*store.PromotionEvidence, error) {
	f.asked = append(f.asked, env+"@"+running)
	e := f.evidence
	return &e, nil
}

// overBudget is the evidence on a first promotion into production of a
// team with 4,900 of its 5,000 USD billed by 20 June: 4,900 / 20 x 30 =
// 7,350, plus 10 days of the 6.721293 a month the production workload
// adds (server/cost works it out).
var overBudget = store.PromotionEvidence{
	ComputeTime: time.Date(2031, 6, 20, 15, 0, 0, 0, time.UTC), Currency: "USD",
	MonthlyCostChange: 6_721_293, CostChangeBasis: "first promotion into production, which runs nothing yet: its workload",
	TeamSpent: 4_900_000_000, TeamProjected: 7_352_240_431, TeamBudget: 5_000_000_000,
	ChangeFailureRate: 0.25, ChangeFailureDeployments: 8, ChangeFailureBand: "low",
}

const overBudgetSummary = "evidence: cost +6.72 USD/month, team spent 4900.00, projected 7352.24 of budget 5000.00 (over), change failure rate 25% of 8 in 30d"

func TestBudgetGuardRefusesAnApproverAndLetsAnAdminApproveAPromotionProjectedOverBudget(t *testing.T) {
	h := newPromotionHarness(t, manifest.DefaultSettings(), "staging", "production")
	evidence := &fixedEvidence{evidence: overBudget}
	h.p.UseEvidence(evidence, true)

	requester := as("user:default/dev", auth.RoleDeveloper)
	promotion, err := h.p.RequestPromotion(requester, PromotionRequest{Service: "orders-service", Revision: "v1.0.0"})
	require.NoError(t, err)
	require.Equal(t, []string{"production@"}, evidence.asked, "production runs nothing yet")
	require.Equal(t, overBudget, *promotion.Evidence)
	require.Equal(t, "promotion of v1.0.0 into production; production runs nothing yet; "+overBudgetSummary+"; waits for an approver",
		audit.DetailOf(requester))

	approver := as("user:default/lead", auth.RoleApprover)
	_, err = h.p.Decide(approver, "orders-service", promotion.ID, true, "")
	e := requireRefused(t, err, codes.FailedPrecondition, "BUDGET_PROJECTED_OVERRUN")
	require.Equal(t, "team team-orders is projected to spend 7352.24 USD this month with this promotion (4900.00 spent by day 20, 6.72 a month more), over its budget of 5000.00: approving it needs an admin (promotions.budgetGuard)", e.Message)
	require.Equal(t, "refused approving the promotion of v1.0.0 into production: projected over budget, needs an admin; "+overBudgetSummary,
		audit.DetailOf(approver), "the refusal's audit event keeps the evidence")
	stored, err := h.store.GetPromotion(t.Context(), "orders-service", promotion.ID)
	require.NoError(t, err)
	require.Equal(t, StatePending, stored.State, "a refused approval changes nothing")
	require.Equal(t, "release", h.targetRevision("production"))

	admin := as("user:default/admin", auth.RoleAdmin)
	decided, err := h.p.Decide(admin, "orders-service", promotion.ID, true, "release day")
	require.NoError(t, err)
	require.Equal(t, StateApproved, decided.State)
	require.Equal(t, "approved the promotion of v1.0.0 into production; "+overBudgetSummary, audit.DetailOf(admin))
	require.Equal(t, "v1.0.0", h.targetRevision("production"))
}

func TestWithoutTheBudgetGuardAnApproverApprovesAPromotionProjectedOverBudget(t *testing.T) {
	h := newPromotionHarness(t, manifest.DefaultSettings(), "staging", "production")
	h.p.UseEvidence(&fixedEvidence{evidence: overBudget}, false)
	promotion, err := h.p.RequestPromotion(as("user:default/dev", auth.RoleDeveloper), PromotionRequest{Service: "orders-service", Revision: "v1.0.0"})
	require.NoError(t, err)
	decided, err := h.p.Decide(as("user:default/lead", auth.RoleApprover), "orders-service", promotion.ID, true, "")
	require.NoError(t, err)
	require.Equal(t, StateApproved, decided.State)
}

func TestBudgetGuardLetsAnApproverApproveAPromotionProjectedWithinBudget(t *testing.T) {
	h := newPromotionHarness(t, manifest.DefaultSettings(), "staging", "production")
	h.runs(t, "production", "v1.0.0")
	within := overBudget
	// 2,000 by day 20 projects 3,000; another revision of a running
	// production changes nothing priced.
	within.MonthlyCostChange, within.TeamSpent, within.TeamProjected = 0, 2_000_000_000, 3_000_000_000
	evidence := &fixedEvidence{evidence: within}
	h.p.UseEvidence(evidence, true)
	promotion, err := h.p.RequestPromotion(as("user:default/dev", auth.RoleDeveloper), PromotionRequest{Service: "orders-service", Revision: "v1.1.0"})
	require.NoError(t, err)
	require.Equal(t, []string{"production@v1.0.0"}, evidence.asked)
	decided, err := h.p.Decide(as("user:default/lead", auth.RoleApprover), "orders-service", promotion.ID, true, "")
	require.NoError(t, err)
	require.Equal(t, StateApproved, decided.State)
}

func TestEvidenceSummarySaysWhatCouldNotBeComputed(t *testing.T) {
	require.Equal(t, "evidence: cost 0.00 USD/month, team spend unknown, change failure rate: no deployments in 30d, 2 open incidents on v1.3.0",
		EvidenceSummary(store.PromotionEvidence{Currency: "USD", SpendUnknown: "too large", RunningRevision: "v1.3.0", OpenIncidents: []string{"INC-7", "INC-9"}}))
	require.Equal(t, "evidence: cost 0.00 USD/month, team spent 10.00, projected 15.00, no budget, change failure rate: no deployments in 30d",
		EvidenceSummary(store.PromotionEvidence{Currency: "USD", TeamSpent: 10_000_000, TeamProjected: 15_000_000, BudgetNote: "team team-orders has no budget"}))
}

func TestAPromotionCarriesItsEvidenceInTheAPIOrSaysItHasNone(t *testing.T) {
	e := overBudget
	e.RunningRevision, e.OpenIncidents = "v1.3.0", []string{"INC-7"}
	got := promotionToProto(store.Promotion{Service: "orders-service", ID: 3, Evidence: &e}).GetEvidence()
	require.Equal(t, 6.721293, got.GetMonthlyCostChange())
	require.Equal(t, 4900.0, got.GetTeamSpent())
	require.Equal(t, 7352.240431, got.GetTeamProjected())
	require.Equal(t, 5000.0, got.GetTeamBudget())
	require.NotNil(t, got.TeamBudget)
	require.True(t, got.GetProjectedOverBudget())
	require.Equal(t, []string{"services/orders-service/incidents/INC-7"}, got.GetOpenIncidents())

	e.TeamBudget, e.BudgetNote = 0, "team team-orders has no budget"
	got = promotionToProto(store.Promotion{Service: "orders-service", ID: 3, Evidence: &e}).GetEvidence()
	require.Nil(t, got.TeamBudget)
	require.False(t, got.GetProjectedOverBudget())

	before := promotionToProto(store.Promotion{Service: "orders-service", ID: 1})
	require.Nil(t, before.GetEvidence())
	require.Equal(t, "recorded before Cairn kept evidence on promotions", before.GetEvidenceMissing())
}
