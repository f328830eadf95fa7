package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/delivery"
)

// RecordDeployment implements store.MetricsStore. It takes the service's
// events lock first (see LockServiceEvents), so that an incident naming
// the revision is recorded either before it, and seen by the insert, or
// after it, and marks it. A commit is added by the one call whose insert
// writes it, and counted by that call only.
func (s *Store) RecordDeployment(ctx context.Context, d store.Deployment) (store.RecordedDeployment, error) {
	var recorded store.RecordedDeployment
	err := s.inTx(ctx, func(x Executor) error {
		if err := x.LockServiceEvents(ctx, d.Service); err != nil {
			return err
		}
		id, causedIncident, err := x.InsertDeployment(ctx, d, time.Now())
		switch {
		case s.d.IsNoRows(err): // recorded before: its status and times stand
			var finishedAt time.Time
			id, recorded.Status, finishedAt, err = x.StoredDeployment(ctx, d)
			if err != nil {
				return err
			}
			recorded.FinishedAt = finishedAt.UTC()
			if err := delivery.CheckCommitsBefore(d.Commits, recorded.FinishedAt); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			recorded = store.RecordedDeployment{Created: true, Status: d.Status, FinishedAt: time.UnixMicro(d.FinishedAt.UnixMicro()).UTC()}
		}
		if len(d.Commits) > 0 {
			if recorded.AddedCommits, err = x.InsertDeploymentCommits(ctx, id, d.Commits); err != nil {
				return err
			}
		}
		count := DeploymentCount{
			Service: d.Service, Environment: d.Environment, Day: delivery.Day(recorded.FinishedAt),
			LeadTimes: delivery.LeadTimes(recorded.Status, recorded.FinishedAt, recorded.AddedCommits),
		}
		if recorded.Created {
			count.Succeeded, count.Failed, count.IncidentCausing = delivery.Counts(d.Status, causedIncident)
		} else if len(count.LeadTimes) == 0 {
			return nil // a repeat that adds nothing to count
		}
		return x.CountDeployments(ctx, count)
	})
	if err != nil {
		return store.RecordedDeployment{}, s.failed(fmt.Sprintf("record deployment of %q to %s at %s", d.Service, d.Environment, d.Revision), err)
	}
	return recorded, nil
}

// RecordIncident implements store.MetricsStore. Like RecordDeployment, it
// takes the service's events lock, so that the deployments it marks are all
// there.
func (s *Store) RecordIncident(ctx context.Context, i store.Incident) (bool, error) {
	created := false
	err := s.inTx(ctx, func(x Executor) error {
		if err := x.LockServiceEvents(ctx, i.Service); err != nil {
			return err
		}
		inserted, err := x.InsertIncident(ctx, i, time.Now())
		if err != nil || !inserted {
			return err
		}
		created = true
		if i.CauseRevision == "" {
			return nil
		}
		marked, err := x.MarkIncidentCauses(ctx, i.Service, i.CauseRevision)
		if err != nil {
			return err
		}
		for _, m := range marked {
			if m.Status != store.DeploymentSucceeded {
				continue // counted as failed already
			}
			err := x.CountDeployments(ctx, DeploymentCount{
				Service: i.Service, Environment: m.Environment, Day: delivery.Day(m.FinishedAt),
				IncidentCausing: 1, LeadTimes: []byte{},
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, s.failed(fmt.Sprintf("record incident %q of %q", i.ID, i.Service), err)
	}
	return created, nil
}

// GetIncident implements store.MetricsStore.
func (s *Store) GetIncident(ctx context.Context, service, id string) (store.Incident, error) {
	i, err := s.d.GetIncident(ctx, service, id)
	err = s.notFound(err)
	if err != nil {
		return store.Incident{}, s.failed(fmt.Sprintf("get incident %q of %q", id, service), err)
	}
	return i, nil
}

// FindIncidents implements store.MetricsStore.
func (s *Store) FindIncidents(ctx context.Context, id string) ([]store.Incident, error) {
	incidents, err := s.d.FindIncidents(ctx, id)
	if err != nil {
		return nil, s.failed(fmt.Sprintf("find incidents %q", id), err)
	}
	return incidents, nil
}

// ResolveIncident implements store.MetricsStore. The update waits for a
// concurrent one of the same incident and then finds it resolved, so that
// the later of two resolutions at different times is ErrConflict.
func (s *Store) ResolveIncident(ctx context.Context, service, id string, at time.Time) (store.Incident, error) {
	var resolved store.Incident
	err := s.inTx(ctx, func(x Executor) error {
		if err := x.ResolveIncident(ctx, service, id, at); err != nil {
			return err
		}
		i, err := x.GetIncident(ctx, service, id)
		err = s.notFound(err)
		if err != nil {
			return err
		}
		if i.ResolvedAt.UnixMicro() != at.UnixMicro() {
			return fmt.Errorf("%w: resolved at %s already", store.ErrConflict, i.ResolvedAt.Format(time.RFC3339Nano))
		}
		resolved = i
		return nil
	})
	if err != nil {
		return store.Incident{}, s.failed(fmt.Sprintf("resolve incident %q of %q", id, service), err)
	}
	return resolved, nil
}

// RecordSupportTicket implements store.MetricsStore.
func (s *Store) RecordSupportTicket(ctx context.Context, t store.SupportTicket) (bool, error) {
	inserted, err := s.d.InsertSupportTicket(ctx, t, time.Now())
	if err != nil {
		return false, s.failed(fmt.Sprintf("record support ticket %q", t.ID), err)
	}
	return inserted, nil
}

// CountSupportTickets implements store.MetricsStore.
func (s *Store) CountSupportTickets(ctx context.Context, from, to time.Time) ([]store.TicketCount, error) {
	counts, err := s.d.CountSupportTickets(ctx, from, to)
	if err != nil {
		return nil, s.failed("count support tickets", err)
	}
	return counts, nil
}

// ServiceNames implements store.MetricsStore.
func (s *Store) ServiceNames(ctx context.Context, team string) ([]string, error) {
	var (
		names []string
		err   error
	)
	if team == "" {
		names, err = s.d.ServiceNames(ctx)
	} else {
		names, err = s.d.TeamServiceNames(ctx, team)
	}
	if err != nil {
		return nil, s.failed(fmt.Sprintf("service names of team %q", team), err)
	}
	return names, nil
}

// DeliveryFacts implements store.MetricsStore.
func (s *Store) DeliveryFacts(ctx context.Context, services, environments []string, from, to time.Time) (store.DeliveryFacts, error) {
	if len(services) == 0 || len(environments) == 0 {
		return store.DeliveryFacts{}, nil
	}
	facts, err := s.d.DeliveryFacts(ctx, services, environments, from, to)
	if err != nil {
		return store.DeliveryFacts{}, s.failed(fmt.Sprintf("delivery facts of %d services", len(services)), err)
	}
	return facts, nil
}
