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
	changes := append(deployments, promotions...)
	slices.SortStableFunc(changes, func(a, b store.Change) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Service, b.Service))
	})
	return changes, nil
}

// CountChangeDays implements store.ChangeStore: the deployments counted in
// the database, the few promotions added to their days.
func (s *Store) CountChangeDays(ctx context.Context, services, environments []string, from, to time.Time) ([]store.ChangeDay, error) {
	if len(services) == 0 || len(environments) == 0 {
		return nil, nil
	}
	days, err := s.d.ChangeDeploymentDays(ctx, services, environments, from, to)
	if err != nil {
		return nil, s.failed(fmt.Sprintf("deployment days of %d services", len(services)), err)
	}
	promotions, err := s.d.ChangePromotions(ctx, services, environments, from, to)
	if err != nil {
		return nil, s.failed(fmt.Sprintf("promotions of %d services", len(services)), err)
	}
	type key struct {
		service string
		day     time.Time
	}
	index := make(map[key]int, len(days))
	for i, d := range days {
		index[key{d.Service, d.Day}] = i
	}
	for _, p := range promotions {
		y, m, dd := p.Time.UTC().Date()
		k := key{p.Service, time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)}
		if i, ok := index[k]; ok {
			days[i].Changes++
		} else {
			index[k] = len(days)
			days = append(days, store.ChangeDay{Service: k.service, Day: k.day, Changes: 1})
		}
	}
	slices.SortFunc(days, func(a, b store.ChangeDay) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), a.Day.Compare(b.Day))
	})
	return days, nil
}
