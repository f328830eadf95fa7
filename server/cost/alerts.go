package cost

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/server/notify"
	"github.com/cairn-dev/cairn/store"
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

// AnomalyAlerts is the notifier's source of cost anomalies.
type AnomalyAlerts struct{ s *Server }

// AnomalyAlerts returns the source that tells a team when one of its
// services becomes a cost anomaly of the month: ListCostAnomalies lists it
// with the default threshold.
func (s *Server) AnomalyAlerts() AnomalyAlerts { return AnomalyAlerts{s: s} }

// AnomalyInterval is how often anomalies are looked for: it reads every
// service's costs of two months, and those change with a billing import
// or a resource change, not by the minute.
const AnomalyInterval = time.Hour

// Interval makes the notifier look at anomalies once an AnomalyInterval.
func (AnomalyAlerts) Interval() time.Duration { return AnomalyInterval }

// Events are this month's anomalies, each keyed by service and month so
// that a service is told once a month however its cost moves after.
func (a AnomalyAlerts) Events(ctx context.Context) ([]notify.Event, error) {
	now := a.s.now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	totals, err := a.s.totals(ctx, store.ServiceFilter{}, start, now)
	if err != nil {
		return nil, err
	}
	month, before := start.Format(monthLayout), start.AddDate(0, -1, 0).Format(monthLayout)
	var events []notify.Event
	for _, an := range anomaliesOf(totals, DefaultAnomalyThresholdPercent) {
		events = append(events, notify.Event{
			Key: fmt.Sprintf("cost-anomaly/%s/%s", an.GetServiceName(), month), Kind: "cost_anomaly",
			Team: an.GetTeam(), Service: an.GetServiceName(),
			Title: fmt.Sprintf("Cost anomaly: %s, %s", an.GetServiceName(), month),
			Text: fmt.Sprintf("%s costs %.2f %s in %s, %.0f%% more than its %.2f %s in %s.",
				an.GetServiceName(), an.GetMonthlyCost(), a.s.config.Currency, month, an.GetGrowthPercent(),
				an.GetPreviousMonthlyCost(), a.s.config.Currency, before),
			Recipient: a.s.teamGroup(an.GetTeam()),
		})
	}
	return events, nil
}

// teamGroup is the group entity reference of a team, in the first
// namespace that makes teams.
func (s *Server) teamGroup(team string) string {
	return fmt.Sprintf("group:%s/%s", s.teams.Namespaces()[0], team)
}
