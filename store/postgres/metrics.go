package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/delivery"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// serviceEventsLock is the first key of the advisory locks on which the
// writers of one service's deployments and incidents take turns (see
// LockServiceEvents); the second is a hash of the service's name.
const serviceEventsLock int32 = 0x6d657472 // "metr"

// RecordDeployment implements store.MetricsStore. It takes the service's
// events lock first, so that an incident naming the revision is recorded
// either before it, and seen by the insert, or after it, and marks it. A
// commit is added by the one call whose insert writes it, and counted by
// that call only.
func (s *Store) RecordDeployment(ctx context.Context, d store.Deployment) (store.RecordedDeployment, error) {
	var recorded store.RecordedDeployment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.queries.WithTx(tx)
		err := q.LockServiceEvents(ctx, dbsqlc.LockServiceEventsParams{LockClass: serviceEventsLock, Service: d.Service})
		if err != nil {
			return err
		}
		var (
			id             int64
			causedIncident bool // by an incident recorded before it, when new
		)
		row, err := q.InsertDeployment(ctx, dbsqlc.InsertDeploymentParams{
			Service:     d.Service,
			Environment: d.Environment,
			Revision:    d.Revision,
			Status:      d.Status,
			StartedAt:   d.StartedAt,
			FinishedAt:  d.FinishedAt,
			RecordedAt:  time.Now(),
		})
		switch {
		case errors.Is(err, pgx.ErrNoRows): // recorded before: its status and times stand
			stored, err := q.StoredDeployment(ctx, dbsqlc.StoredDeploymentParams{
				Service: d.Service, Revision: d.Revision, Environment: d.Environment, StartedAt: d.StartedAt,
			})
			if err != nil {
				return err
			}
			recorded = store.RecordedDeployment{Status: stored.Status, FinishedAt: stored.FinishedAt.UTC()}
			if err := delivery.CheckCommitsBefore(d.Commits, recorded.FinishedAt); err != nil {
				return err
			}
			id = stored.ID
		case err != nil:
			return err
		default:
			recorded = store.RecordedDeployment{Created: true, Status: d.Status, FinishedAt: time.UnixMicro(d.FinishedAt.UnixMicro()).UTC()}
			id, causedIncident = row.ID, row.CausedIncident
		}
		if recorded.AddedCommits, err = insertCommits(ctx, q, id, d.Commits); err != nil {
			return err
		}
		counts := dbsqlc.CountDeploymentsParams{
			Service: d.Service, Environment: d.Environment, Day: delivery.Day(recorded.FinishedAt),
			LeadTimes: delivery.LeadTimes(recorded.Status, recorded.FinishedAt, recorded.AddedCommits),
		}
		if recorded.Created {
			counts.Succeeded, counts.Failed, counts.IncidentCausing = delivery.Counts(d.Status, causedIncident)
		} else if len(counts.LeadTimes) == 0 {
			return nil // a repeat that adds nothing to count
		}
		return q.CountDeployments(ctx, counts)
	})
	if err != nil {
		return store.RecordedDeployment{}, failed(fmt.Sprintf("record deployment of %q to %s at %s", d.Service, d.Environment, d.Revision), err)
	}
	return recorded, nil
}

// insertCommits adds commits to the deployment id, but those it lists
// already, in one statement, and returns those it added, in the order
// given.
func insertCommits(ctx context.Context, q *dbsqlc.Queries, id int64, commits []store.Commit) ([]store.Commit, error) {
	if len(commits) == 0 {
		return nil, nil
	}
	shas := make([]string, len(commits))
	committedAts := make([]time.Time, len(commits))
	for i, c := range commits {
		shas[i], committedAts[i] = c.SHA, c.CommittedAt
	}
	addedSHAs, err := q.InsertDeploymentCommits(ctx, dbsqlc.InsertDeploymentCommitsParams{
		DeploymentID: id, Shas: shas, CommittedAts: committedAts,
	})
	if err != nil {
		return nil, err
	}
	wasAdded := make(map[string]bool, len(addedSHAs))
	for _, sha := range addedSHAs {
		wasAdded[sha] = true
	}
	var added []store.Commit
	for _, c := range commits {
		if wasAdded[c.SHA] {
			added = append(added, c)
		}
	}
	return added, nil
}

// RecordIncident implements store.MetricsStore. Like RecordDeployment, it
// takes the service's events lock, so that the deployments it marks are all
// there.
func (s *Store) RecordIncident(ctx context.Context, i store.Incident) (bool, error) {
	created := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.queries.WithTx(tx)
		err := q.LockServiceEvents(ctx, dbsqlc.LockServiceEventsParams{LockClass: serviceEventsLock, Service: i.Service})
		if err != nil {
			return err
		}
		inserted, err := q.InsertIncident(ctx, dbsqlc.InsertIncidentParams{
			ID:            i.ID,
			Service:       i.Service,
			OpenedAt:      i.OpenedAt,
			ResolvedAt:    optionalTime(i.ResolvedAt),
			CauseRevision: i.CauseRevision,
			RecordedAt:    time.Now(),
		})
		if err != nil || inserted == 0 {
			return err
		}
		created = true
		if i.CauseRevision == "" {
			return nil
		}
		marked, err := q.MarkIncidentCauses(ctx, dbsqlc.MarkIncidentCausesParams{Service: i.Service, Revision: i.CauseRevision})
		if err != nil {
			return err
		}
		for _, m := range marked {
			if m.Status != store.DeploymentSucceeded {
				continue // counted as failed already
			}
			err := q.CountDeployments(ctx, dbsqlc.CountDeploymentsParams{
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
		return false, failed(fmt.Sprintf("record incident %q of %q", i.ID, i.Service), err)
	}
	return created, nil
}

// GetIncident implements store.MetricsStore.
func (s *Store) GetIncident(ctx context.Context, service, id string) (store.Incident, error) {
	i, err := incidentFound(s.queries.GetIncident(ctx, dbsqlc.GetIncidentParams{Service: service, ID: id}))
	if err != nil {
		return store.Incident{}, failed(fmt.Sprintf("get incident %q of %q", id, service), err)
	}
	return i, nil
}

// FindIncidents implements store.MetricsStore.
func (s *Store) FindIncidents(ctx context.Context, id string) ([]store.Incident, error) {
	rows, err := s.queries.FindIncidents(ctx, id)
	if err != nil {
		return nil, failed(fmt.Sprintf("find incidents %q", id), err)
	}
	incidents := make([]store.Incident, 0, len(rows))
	for _, row := range rows {
		i, _ := incidentFound(dbsqlc.GetIncidentRow(row), nil)
		incidents = append(incidents, i)
	}
	return incidents, nil
}

// ResolveIncident implements store.MetricsStore. The update waits for a
// concurrent one of the same incident and then finds it resolved, so that
// the later of two resolutions at different times is ErrConflict.
func (s *Store) ResolveIncident(ctx context.Context, service, id string, at time.Time) (store.Incident, error) {
	var resolved store.Incident
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.queries.WithTx(tx)
		if _, err := q.ResolveIncident(ctx, dbsqlc.ResolveIncidentParams{ResolvedAt: at, Service: service, ID: id}); err != nil {
			return err
		}
		i, err := incidentFound(q.GetIncident(ctx, dbsqlc.GetIncidentParams{Service: service, ID: id}))
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
		return store.Incident{}, failed(fmt.Sprintf("resolve incident %q of %q", id, service), err)
	}
	return resolved, nil
}

// incidentFound is the incident GetIncident read, or ErrNotFound.
func incidentFound(row dbsqlc.GetIncidentRow, err error) (store.Incident, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Incident{}, store.ErrNotFound
	}
	if err != nil {
		return store.Incident{}, err
	}
	return store.Incident{
		ID:            row.ID,
		Service:       row.Service,
		OpenedAt:      row.OpenedAt.UTC(),
		ResolvedAt:    timeOrZero(row.ResolvedAt),
		CauseRevision: row.CauseRevision,
	}, nil
}

// RecordSupportTicket implements store.MetricsStore.
func (s *Store) RecordSupportTicket(ctx context.Context, t store.SupportTicket) (bool, error) {
	inserted, err := s.queries.InsertSupportTicket(ctx, dbsqlc.InsertSupportTicketParams{
		Scope:      t.Scope,
		ID:         t.ID,
		Category:   t.Category,
		Team:       t.Team,
		OpenedAt:   t.OpenedAt,
		RecordedAt: time.Now(),
	})
	if err != nil {
		return false, failed(fmt.Sprintf("record support ticket %q", t.ID), err)
	}
	return inserted > 0, nil
}

// CountSupportTickets implements store.MetricsStore.
func (s *Store) CountSupportTickets(ctx context.Context, from, to time.Time) ([]store.TicketCount, error) {
	rows, err := s.queries.CountSupportTickets(ctx, dbsqlc.CountSupportTicketsParams{OpenedFrom: from, OpenedTo: to})
	if err != nil {
		return nil, failed("count support tickets", err)
	}
	counts := make([]store.TicketCount, 0, len(rows))
	for _, row := range rows {
		counts = append(counts, store.TicketCount{Category: row.Category, Count: row.Tickets})
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
		names, err = s.queries.ServiceNames(ctx)
	} else {
		names, err = s.queries.TeamServiceNames(ctx, team)
	}
	if err != nil {
		return nil, failed(fmt.Sprintf("service names of team %q", team), err)
	}
	return names, nil
}

// DeliveryFacts implements store.MetricsStore in one statement, one round
// trip: the period's whole days from deployment_days, its part-days from
// the deployments and their commits, and the restore times, each read by
// an index or a primary key.
func (s *Store) DeliveryFacts(ctx context.Context, services []string, environment string, from, to time.Time) (store.DeliveryFacts, error) {
	var facts store.DeliveryFacts
	if len(services) == 0 {
		return facts, nil
	}
	head, whole, tail := delivery.Split(from, to)
	row, err := s.queries.DeliveryFacts(ctx, dbsqlc.DeliveryFactsParams{
		Services:    services,
		Environment: environment,
		PeriodFrom:  from,
		PeriodTo:    to,
		WholeFrom:   whole.From,
		WholeTo:     whole.To,
		HeadFrom:    head.From,
		HeadTo:      head.To,
		TailFrom:    tail.From,
		TailTo:      tail.To,
	})
	if err != nil {
		return store.DeliveryFacts{}, failed(fmt.Sprintf("delivery facts of %d services", len(services)), err)
	}
	facts.Days = make([]store.DeploymentDay, len(row.Days))
	for i, day := range row.Days {
		facts.Days[i] = store.DeploymentDay{
			Day: day.UTC(), Succeeded: row.Succeeded[i], Failed: row.Failed[i], IncidentCausing: row.IncidentCausing[i],
		}
	}
	leadTimes, err := delivery.AppendDecodedMicros(nil, row.LeadTimes)
	if err != nil {
		return store.DeliveryFacts{}, fmt.Errorf("postgres: delivery facts of %d services: %w", len(services), err)
	}
	facts.LeadTimes = microsToDurations(leadTimes)
	facts.RestoreTimes = microsToDurations(row.RestoreTimes)
	return facts, nil
}

// microsToDurations converts microseconds to durations.
func microsToDurations(micros []int64) []time.Duration {
	durations := make([]time.Duration, len(micros))
	for i, us := range micros {
		durations[i] = time.Duration(us) * time.Microsecond
	}
	return durations
}
