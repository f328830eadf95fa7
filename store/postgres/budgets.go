package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// PutBudget implements store.BudgetStore.
func (s *Store) PutBudget(ctx context.Context, b store.Budget) (store.Budget, error) {
	row, err := s.queries.PutBudget(ctx, dbsqlc.PutBudgetParams{
		Team:          b.Team,
		MonthlyAmount: b.MonthlyAmount,
		Currency:      b.Currency,
		UpdateTime:    time.Now().Truncate(time.Microsecond),
	})
	if err != nil {
		return store.Budget{}, failed(fmt.Sprintf("put budget of %q", b.Team), err)
	}
	return fromBudgetRow(row), nil
}

// GetBudget implements store.BudgetStore.
func (s *Store) GetBudget(ctx context.Context, team string) (store.Budget, error) {
	row, err := s.queries.GetBudget(ctx, team)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Budget{}, failed(fmt.Sprintf("get budget of %q", team), err)
	}
	return fromBudgetRow(row), nil
}

// fromBudgetRow is the budget a row stores, its time in UTC.
func fromBudgetRow(row dbsqlc.TeamBudget) store.Budget {
	return store.Budget{
		Team:          row.Team,
		MonthlyAmount: row.MonthlyAmount,
		Currency:      row.Currency,
		UpdateTime:    row.UpdateTime.UTC(),
	}
}
