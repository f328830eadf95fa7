package cost

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
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
	budget, err := s.budgetOf(ctx, b)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetTeamBudgetResponse{Budget: budget}, nil
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
	stored, err := s.store.PutBudget(ctx, store.Budget{Team: team, MonthlyAmount: int64(amount), Currency: currency})
	if err != nil {
		return nil, err
	}
	budget, err := s.budgetOf(ctx, stored)
	if err != nil {
		return nil, err
	}
	return &cairnv1.UpdateTeamBudgetResponse{Budget: budget}, nil
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

// budgetOf is the API's budget b, with what the team spent of it in the
// current UTC month: billed where billing was imported, estimated where
// not.
func (s *Server) budgetOf(ctx context.Context, b store.Budget) (*cairnv1.Budget, error) {
	now := s.now().UTC()
	start, err := monthStart("", now)
	if err != nil {
		return nil, err
	}
	totals, err := s.totals(ctx, store.ServiceFilter{Team: b.Team}, start, now)
	if err != nil {
		return nil, err
	}
	var spent Micros
	for _, t := range totals {
		spent += t.current
	}
	var burn float64
	if b.MonthlyAmount > 0 {
		burn = float64(spent) * 100 / float64(b.MonthlyAmount)
	}
	return &cairnv1.Budget{
		Name:          "teams/" + b.Team + "/budget",
		MonthlyAmount: Micros(b.MonthlyAmount).Float64(),
		Currency:      b.Currency,
		Spent:         spent.Float64(),
		BurnPercent:   burn,
	}, nil
}
