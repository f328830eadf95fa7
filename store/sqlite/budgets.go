package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// PutBudget implements store.BudgetStore.
func (s *Store) PutBudget(ctx context.Context, b store.Budget) (store.Budget, error) {
	row, err := s.queries.PutBudget(ctx, dbsqlc.PutBudgetParams{
		Team:          b.Team,
		MonthlyAmount: b.MonthlyAmount,
		Currency:      b.Currency,
		UpdateTime:    time.Now().UnixMicro(),
	})
	if err != nil {
		return store.Budget{}, fmt.Errorf("sqlite: put budget of %q: %w", b.Team, err)
	}
	return fromBudgetRow(row), nil
}

// GetBudget implements store.BudgetStore.
func (s *Store) GetBudget(ctx context.Context, team string) (store.Budget, error) {
	row, err := s.queries.GetBudget(ctx, team)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Budget{}, fmt.Errorf("sqlite: get budget of %q: %w", team, err)
	}
	return fromBudgetRow(row), nil
}

// fromBudgetRow is the budget a row stores.
func fromBudgetRow(row dbsqlc.TeamBudget) store.Budget {
	return store.Budget{
		Team:          row.Team,
		MonthlyAmount: row.MonthlyAmount,
		Currency:      row.Currency,
		UpdateTime:    time.UnixMicro(row.UpdateTime).UTC(),
	}
}
