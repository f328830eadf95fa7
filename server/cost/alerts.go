package cost

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/server/notify"
)

// Budget thresholds a team is told of, once a month each: the highest it
// has reached.
var budgetThresholds = []struct {
	percent float64
	kind    string
	title   string
}{
	{100, "budget_exceeded", "Budget spent"},
	{80, "budget_80_percent", "80% of the budget spent"},
}

// BudgetAlerts is the notifier's source of budget crossings.
type BudgetAlerts struct{ s *Server }

// BudgetAlerts returns the source that tells a team when its spend of the
// month (UTC) reaches 80% and then 100% of its budget.
func (s *Server) BudgetAlerts() BudgetAlerts { return BudgetAlerts{s: s} }

// Events are the crossings of this month: each team's highest threshold
// reached, keyed by team, month and threshold, so that it is told once.
// A budget in another currency than Cairn's is skipped: its burn would
// divide one currency by another.
func (b BudgetAlerts) Events(ctx context.Context) ([]notify.Event, error) {
	budgets, err := b.s.store.ListBudgets(ctx)
	if err != nil {
		return nil, err
	}
	month := b.s.now().UTC().Format("2006-01")
	var events []notify.Event
	for _, budget := range budgets {
		if budget.Currency != b.s.config.Currency {
			continue
		}
		spent, err := b.s.spentThisMonth(ctx, budget.Team)
		if err != nil {
			return nil, err
		}
		burn := budgetOf(budget, spent)
		for _, t := range budgetThresholds {
			if burn.GetBurnPercent() < t.percent {
				continue
			}
			events = append(events, notify.Event{
				Key: fmt.Sprintf("budget/%s/%s/%g", budget.Team, month, t.percent), Kind: t.kind, Team: budget.Team,
				Title: fmt.Sprintf("%s: %s, %s", t.title, budget.Team, month),
				Text: fmt.Sprintf("%s has spent %.2f %s of its %.2f %s budget for %s (%.0f%%).",
					budget.Team, burn.GetSpent(), budget.Currency, burn.GetMonthlyAmount(), budget.Currency, month, burn.GetBurnPercent()),
				Recipient: b.s.teamGroup(budget.Team),
			})
			break
		}
	}
	return events, nil
}

// teamGroup is the group entity reference of a team, in the first
// namespace that makes teams.
func (s *Server) teamGroup(team string) string {
	return fmt.Sprintf("group:%s/%s", s.teams.Namespaces()[0], team)
}
