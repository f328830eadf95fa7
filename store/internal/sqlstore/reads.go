package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/auditlog"
)

// AppendAuditEvent implements store.AuditStore. It stores e.Bounded().
func (s *Store) AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	stored, err := s.d.AppendAuditEvent(ctx, e.Bounded())
	if err != nil {
		return store.AuditEvent{}, s.failed("append audit event", err)
	}
	return stored, nil
}

// ListAuditEvents implements store.AuditStore.
func (s *Store) ListAuditEvents(ctx context.Context, filter store.AuditFilter, before int64, limit int) ([]store.AuditEvent, error) {
	events, err := s.d.ListAuditEvents(ctx, auditlog.NewQuery(filter, before, limit))
	if err != nil {
		return nil, s.failed("list audit events", err)
	}
	return events, nil
}

// PutBudget implements store.BudgetStore.
func (s *Store) PutBudget(ctx context.Context, b store.Budget) (store.Budget, error) {
	stored, err := s.d.PutBudget(ctx, b, time.Now())
	if err != nil {
		return store.Budget{}, s.failed(fmt.Sprintf("put budget of %q", b.Team), err)
	}
	return stored, nil
}

// GetBudget implements store.BudgetStore.
func (s *Store) GetBudget(ctx context.Context, team string) (store.Budget, error) {
	b, err := s.d.GetBudget(ctx, team)
	err = s.notFound(err)
	if err != nil {
		return store.Budget{}, s.failed(fmt.Sprintf("get budget of %q", team), err)
	}
	return b, nil
}

// ListBudgets implements store.BudgetStore.
func (s *Store) ListBudgets(ctx context.Context) ([]store.Budget, error) {
	budgets, err := s.d.ListBudgets(ctx)
	if err != nil {
		return nil, s.failed("list budgets", err)
	}
	return budgets, nil
}

// FirstDeployments implements store.PlatformStore.
func (s *Store) FirstDeployments(ctx context.Context, from, to time.Time) ([]store.FirstDeployment, error) {
	firsts, err := s.d.FirstDeployments(ctx, from, to)
	if err != nil {
		return nil, s.failed("first deployments", err)
	}
	return firsts, nil
}

// CountServices implements store.PlatformStore.
func (s *Store) CountServices(ctx context.Context) ([]store.TeamServiceCount, error) {
	counts, err := s.d.CountServices(ctx)
	if err != nil {
		return nil, s.failed("count services", err)
	}
	return counts, nil
}

// CountActiveServices implements store.PlatformStore.
func (s *Store) CountActiveServices(ctx context.Context, from, to time.Time) ([]store.ActiveServiceCount, error) {
	counts, err := s.d.CountActiveServices(ctx, from, to)
	if err != nil {
		return nil, s.failed("count active services", err)
	}
	return counts, nil
}
