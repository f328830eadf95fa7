package cost

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
)

// GetTeamBudget implements CostService: the team's monthly budget with
// what the team spent of it this month (UTC).
func (s *Server) GetTeamBudget(ctx context.Context, req *cairnv1.GetTeamBudgetRequest) (*cairnv1.GetTeamBudgetResponse, error) {
	team, err := budgetTeam(req.GetName())
	if err != nil {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "name", Description: err.Error()})
	}
	b, err := s.store.GetBudget(ctx, team)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound("budget", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	if b.Currency != s.config.Currency {
		// Set before cost.currency changed: its burn would divide one
		// currency by another.
		return nil, &apierr.Error{
			Code:   codes.FailedPrecondition,
			Reason: "BUDGET_CURRENCY_MISMATCH",
			Message: fmt.Sprintf("the budget of team %q is in %s, and Cairn reports cost in %s (cost.currency): set the budget again in %s",
				team, b.Currency, s.config.Currency, s.config.Currency),
			Metadata: map[string]string{"budgetCurrency": b.Currency, "currency": s.config.Currency},
		}
	}
	spent, err := s.spentThisMonth(ctx, team)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetTeamBudgetResponse{Budget: budgetOf(b, spent)}, nil
}

// UpdateTeamBudget implements CostService: it sets the team's monthly
// budget, creating it when the team has none, and answers it as
// GetTeamBudget does.
func (s *Server) UpdateTeamBudget(ctx context.Context, req *cairnv1.UpdateTeamBudgetRequest) (*cairnv1.UpdateTeamBudgetResponse, error) {
	in := req.GetBudget()
	if in == nil {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "budget", Description: "is required"})
	}
	var violations []apierr.FieldViolation
	team, err := budgetTeam(in.GetName())
	if err != nil {
		violations = append(violations, apierr.FieldViolation{Field: "budget.name", Description: err.Error()})
	}
	amount, err := budgetAmount(in.GetMonthlyAmount())
	if err != nil {
		violations = append(violations, apierr.FieldViolation{Field: "budget.monthly_amount", Description: err.Error()})
	}
	currency := in.GetCurrency()
	if currency == "" {
		currency = s.config.Currency
	}
	if currency != s.config.Currency {
		violations = append(violations, apierr.FieldViolation{
			Field:       "budget.currency",
			Description: fmt.Sprintf("must be %s, the currency Cairn reports in", s.config.Currency),
		})
	}
	if len(violations) > 0 {
		return nil, apierr.Invalid(violations...)
	}
	// What the team spent is read first, so that a call that fails has
	// changed nothing: the write is its last step.
	spent, err := s.spentThisMonth(ctx, team)
	if err != nil {
		return nil, err
	}
	stored, err := s.store.PutBudget(ctx, store.Budget{Team: team, MonthlyAmount: int64(amount), Currency: currency})
	if err != nil {
		return nil, err
	}
	return &cairnv1.UpdateTeamBudgetResponse{Budget: budgetOf(stored, spent)}, nil
}

// budgetTeam is the team of a budget's name, `teams/{team}/budget`. The
// team must be a bare team name as entityref.Team accepts it: a DNS-1123
// label.
func budgetTeam(name string) (string, error) {
	const want = "must be teams/{team}/budget, such as teams/team-orders/budget"
	if name == "" {
		return "", errors.New("is required: " + want)
	}
	rest, ok := strings.CutPrefix(name, "teams/")
	if !ok {
		return "", errors.New(want)
	}
	team, ok := strings.CutSuffix(rest, "/budget")
	if !ok || team == "" {
		return "", errors.New(want)
	}
	if t, err := entityref.Team(team); err != nil || t != team {
		return "", fmt.Errorf("team %q must be a DNS-1123 label (lowercase letters, digits and '-'): %s", team, want)
	}
	return team, nil
}

// budgetAmount is a monthly amount in Micros, read exactly from its
// shortest decimal form, never summed as a float.
func budgetAmount(v float64) (Micros, error) {
	if !(v > 0) { // NaN too
		return 0, errors.New("must be greater than zero")
	}
	m, err := ParseMicros(strconv.FormatFloat(v, 'f', -1, 64))
	if err != nil {
		return 0, err
	}
	return m, nil
}

// spentThisMonth is what the team spent in the current UTC month: billed
// where billing was imported, estimated where not.
func (s *Server) spentThisMonth(ctx context.Context, team string) (money.Sum, error) {
	now := s.now().UTC()
	start, err := monthStart("", now)
	if err != nil {
		return money.Sum{}, err
	}
	totals, err := s.totals(ctx, store.ServiceFilter{Team: team}, start, now)
	if err != nil {
		return money.Sum{}, err
	}
	var spent money.Sum
	for _, t := range totals {
		spent = spent.Add(t.current)
	}
	return spent, nil
}

// budgetOf is the API's budget b, of which the team spent spent.
func budgetOf(b store.Budget, spent money.Sum) *cairnv1.Budget {
	var burn float64
	if b.MonthlyAmount > 0 {
		burn = spent.Float64() * 100 / float64(b.MonthlyAmount)
	}
	return &cairnv1.Budget{
		Name:          "teams/" + b.Team + "/budget",
		MonthlyAmount: Micros(b.MonthlyAmount).Float64(),
		Currency:      b.Currency,
		Spent:         units(spent),
		BurnPercent:   burn,
	}
}
