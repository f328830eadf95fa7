package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// FirstDeployments implements store.PlatformStore.
func (s *Store) FirstDeployments(ctx context.Context, from, to time.Time) ([]store.FirstDeployment, error) {
	rows, err := s.queries.FirstDeployments(ctx, dbsqlc.FirstDeploymentsParams{
		FinishedFrom: from.UnixMicro(), FinishedTo: to.UnixMicro(),
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: first deployments: %w", err)
	}
	firsts := make([]store.FirstDeployment, 0, len(rows))
	for _, row := range rows {
		firsts = append(firsts, store.FirstDeployment{
			Service:         row.Name,
			CreateTime:      time.UnixMicro(row.CreateTime).UTC(),
			FirstDeployedAt: time.UnixMicro(row.FirstDeployedAt).UTC(),
		})
	}
	return firsts, nil
}

// CountServices implements store.PlatformStore.
func (s *Store) CountServices(ctx context.Context) ([]store.TeamServiceCount, error) {
	rows, err := s.queries.CountServices(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count services: %w", err)
	}
	counts := make([]store.TeamServiceCount, 0, len(rows))
	for _, row := range rows {
		counts = append(counts, store.TeamServiceCount{Team: row.Team, GoldenPath: row.GoldenPath, Count: row.Services})
	}
	return counts, nil
}

// CountActiveServices implements store.PlatformStore.
func (s *Store) CountActiveServices(ctx context.Context, from, to time.Time) ([]store.ActiveServiceCount, error) {
	rows, err := s.queries.CountActiveServices(ctx, dbsqlc.CountActiveServicesParams{
		FinishedFrom: from.UnixMicro(), FinishedTo: to.UnixMicro(),
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: count active services: %w", err)
	}
	counts := make([]store.ActiveServiceCount, 0, len(rows))
	for _, row := range rows {
		counts = append(counts, store.ActiveServiceCount{Team: row.Team, Environment: row.Environment, Count: row.Services})
	}
	return counts, nil
}
