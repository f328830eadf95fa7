package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/store"
)

// ListChanges implements store.ChangeStore: it merges the deployments and
// the promotions that no listed deployment shipped.
func (s *Store) ListChanges(ctx context.Context, services, environments []string, from, to time.Time) ([]store.Change, error) {
	if len(services) == 0 || len(environments) == 0 {
		return nil, nil
	}
	deployments, err := s.d.ChangeDeployments(ctx, services, environments, from, to)
	if err != nil {
		return nil, s.failed(fmt.Sprintf("deployments of %d services", len(services)), err)
	}
	promotions, err := s.d.ChangePromotions(ctx, services, environments, from, to)
	if err != nil {
		return nil, s.failed(fmt.Sprintf("promotions of %d services", len(services)), err)
	}
	type shipped struct{ service, environment, revision string }
	deployed := make(map[shipped]bool, len(deployments))
	for _, d := range deployments {
		deployed[shipped{d.Service, d.Environment, d.Revision}] = true
	}
	changes := deployments
	for _, p := range promotions {
		if !deployed[shipped{p.Service, p.Environment, p.Revision}] {
			changes = append(changes, p)
		}
	}
	slices.SortStableFunc(changes, func(a, b store.Change) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Service, b.Service))
	})
	return changes, nil
}
