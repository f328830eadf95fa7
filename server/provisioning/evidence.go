package provisioning

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/audit"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/store"
)

// Evidence computes what the approver of a promotion is shown, when the
// promotion is requested: the promotion of a revision of prov's service
// into env, which runs the revision running ("" for nothing).
type Evidence interface {
	PromotionEvidence(ctx context.Context, prov store.Provisioning, env, running string) (*store.PromotionEvidence, error)
}

// UseEvidence makes promotions requested from now on carry the evidence e
// computes, and with budgetGuard makes approving one whose evidence
// projects its team over budget need an admin. It is called once, before
// Cairn serves: the cost service it reads is built after the provisioner.
func (p *Provisioner) UseEvidence(e Evidence, budgetGuard bool) {
	p.evidence, p.budgetGuard = e, budgetGuard
}

// requireAdminOverBudget refuses an approver's approval of a promotion
// whose evidence projects the team over its budget; an admin's goes
// through. Either way the audit event keeps the evidence.
func requireAdminOverBudget(ctx context.Context, team string, pr store.Promotion) error {
	e := pr.Evidence
	if e == nil || !e.ProjectedOverBudget() {
		return nil
	}
	if principal, _ := auth.FromContext(ctx); principal.Has(auth.RoleAdmin) {
		return nil
	}
	audit.Describe(ctx, fmt.Sprintf("refused approving the %s: projected over budget, needs an admin; %s", promotionDetail(pr), EvidenceSummary(*e)))
	return &apierr.Error{
		Code: codes.FailedPrecondition, Reason: "BUDGET_PROJECTED_OVERRUN",
		Message: fmt.Sprintf("team %s is projected to spend %s %s this month with this promotion (%s spent by day %d, %s a month more), over its budget of %s: approving it needs an admin (promotions.budgetGuard)",
			team, amount(e.TeamProjected), e.Currency, amount(e.TeamSpent), e.ComputeTime.Day(), amount(e.MonthlyCostChange), amount(e.TeamBudget)),
		Metadata: map[string]string{
			"team": team, "currency": e.Currency, "projected": amount(e.TeamProjected),
			"budget": amount(e.TeamBudget), "spent": amount(e.TeamSpent), "monthlyCostChange": amount(e.MonthlyCostChange),
		},
	}
}

// EvidenceSummary is the evidence in one line, terse enough for an audit
// event's detail (store.MaxAuditDetailBytes) with the rest of it.
func EvidenceSummary(e store.PromotionEvidence) string {
	var b strings.Builder
	fmt.Fprintf(&b, "evidence: cost %s %s/month", signed(e.MonthlyCostChange), e.Currency)
	if e.SpendUnknown != "" {
		b.WriteString(", team spend unknown")
	} else {
		fmt.Fprintf(&b, ", team spent %s, projected %s", amount(e.TeamSpent), amount(e.TeamProjected))
		if e.TeamBudget > 0 {
			fmt.Fprintf(&b, " of budget %s", amount(e.TeamBudget))
			if e.ProjectedOverBudget() {
				b.WriteString(" (over)")
			}
		} else {
			b.WriteString(", no budget")
		}
	}
	if e.ChangeFailureDeployments == 0 {
		b.WriteString(", change failure rate: no deployments in 30d")
	} else {
		fmt.Fprintf(&b, ", change failure rate %.0f%% of %d in 30d", e.ChangeFailureRate*100, e.ChangeFailureDeployments)
	}
	if len(e.OpenIncidents) > 0 {
		fmt.Fprintf(&b, ", %d open incidents on %s", len(e.OpenIncidents), e.RunningRevision)
	}
	return b.String()
}

// amount is micro-units in units to the cent, rounded half away from
// zero, exactly: 4_900_125_000 is 4900.13.
func amount(micros int64) string {
	sign := ""
	u := uint64(micros)
	if micros < 0 {
		sign, u = "-", uint64(-micros) // -MinInt64 wraps to itself, whose uint64 is right
	}
	cents := (u + 5_000) / 10_000
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// signed is amount with a + on a positive amount, as a change says it.
func signed(micros int64) string {
	if micros > 0 {
		return "+" + amount(micros)
	}
	return amount(micros)
}
