package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/delivery"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// RecordDeployment implements store.MetricsStore. Its transaction holds the
// write lock (see dsn), so that an incident naming the revision is recorded
// either before it, and seen by the insert, or after it, and marks it. A
// commit is added by the one call whose insert writes it, and counted by
// that call only.
func (s *Store) RecordDeployment(ctx context.Context, d store.Deployment) (store.RecordedDeployment, error) {
	var recorded store.RecordedDeployment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := dbsqlc.New(newPreparedTx(tx))
		var (
			id             int64
			causedIncident bool // by an incident recorded before it, when new
		)
		row, err := q.InsertDeployment(ctx, dbsqlc.InsertDeploymentParams{
			Service:     d.Service,
			Environment: d.Environment,
			Revision:    d.Revision,
			Status:      d.Status,
			StartedAt:   d.StartedAt.UnixMicro(),
			FinishedAt:  d.FinishedAt.UnixMicro(),
			RecordedAt:  time.Now().UnixMicro(),
		})
		switch {
		case errors.Is(err, sql.ErrNoRows): // recorded before: its status and times stand
			stored, err := q.StoredDeployment(ctx, dbsqlc.StoredDeploymentParams{
				Service: d.Service, Revision: d.Revision, Environment: d.Environment, StartedAt: d.StartedAt.UnixMicro(),
			})
			if err != nil {
				return err
			}
			recorded = store.RecordedDeployment{Status: stored.Status, FinishedAt: time.UnixMicro(stored.FinishedAt).UTC()}
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
		for _, c := range d.Commits {
			added, err := q.InsertDeploymentCommit(ctx, dbsqlc.InsertDeploymentCommitParams{
				DeploymentID: id, Sha: c.SHA, CommittedAt: c.CommittedAt.UnixMicro(),
			})
			if err != nil {
				return err
			}
			if added > 0 {
				recorded.AddedCommits = append(recorded.AddedCommits, c)
			}
		}
		counts := dbsqlc.CountDeploymentsParams{
			Service: d.Service, Environment: d.Environment, Day: delivery.Day(recorded.FinishedAt).UnixMicro(),
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
		return store.RecordedDeployment{}, fmt.Errorf("sqlite: record deployment of %q to %s at %s: %w", d.Service, d.Environment, d.Revision, err)
	}
	return recorded, nil
}

// RecordIncident implements store.MetricsStore. Like RecordDeployment, it
// holds the write lock, so that the deployments it marks are all there.
func (s *Store) RecordIncident(ctx context.Context, i store.Incident) (bool, error) {
	created := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := dbsqlc.New(tx)
		inserted, err := q.InsertIncident(ctx, dbsqlc.InsertIncidentParams{
			ID:            i.ID,
			Service:       i.Service,
			OpenedAt:      i.OpenedAt.UnixMicro(),
			ResolvedAt:    optionalMicros(i.ResolvedAt),
			CauseRevision: i.CauseRevision,
			RecordedAt:    time.Now().UnixMicro(),
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
				Service: i.Service, Environment: m.Environment, Day: delivery.Day(time.UnixMicro(m.FinishedAt)).UnixMicro(),
				IncidentCausing: 1, LeadTimes: []byte{},
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: record incident %q of %q: %w", i.ID, i.Service, err)
	}
	return created, nil
}

// GetIncident implements store.MetricsStore.
func (s *Store) GetIncident(ctx context.Context, service, id string) (store.Incident, error) {
	i, err := incidentFound(s.queries.GetIncident(ctx, dbsqlc.GetIncidentParams{Service: service, ID: id}))
	if err != nil {
		return store.Incident{}, fmt.Errorf("sqlite: get incident %q of %q: %w", id, service, err)
	}
	return i, nil
}

// FindIncidents implements store.MetricsStore.
func (s *Store) FindIncidents(ctx context.Context, id string) ([]store.Incident, error) {
	rows, err := s.queries.FindIncidents(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find incidents %q: %w", id, err)
	}
	incidents := make([]store.Incident, 0, len(rows))
	for _, row := range rows {
		i, _ := incidentFound(dbsqlc.GetIncidentRow(row), nil)
		incidents = append(incidents, i)
	}
	return incidents, nil
}

// ResolveIncident implements store.MetricsStore.
func (s *Store) ResolveIncident(ctx context.Context, service, id string, at time.Time) (store.Incident, error) {
	var resolved store.Incident
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := dbsqlc.New(tx)
		if _, err := q.ResolveIncident(ctx, dbsqlc.ResolveIncidentParams{ResolvedAt: at.UnixMicro(), Service: service, ID: id}); err != nil {
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
		return store.Incident{}, fmt.Errorf("sqlite: resolve incident %q of %q: %w", id, service, err)
	}
	return resolved, nil
}

// incidentFound is the incident GetIncident read, or ErrNotFound.
func incidentFound(row dbsqlc.GetIncidentRow, err error) (store.Incident, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return store.Incident{}, store.ErrNotFound
	}
	if err != nil {
		return store.Incident{}, err
	}
	return store.Incident{
		ID:            row.ID,
		Service:       row.Service,
		OpenedAt:      time.UnixMicro(row.OpenedAt).UTC(),
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
		OpenedAt:   t.OpenedAt.UnixMicro(),
		RecordedAt: time.Now().UnixMicro(),
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: record support ticket %q: %w", t.ID, err)
	}
	return inserted > 0, nil
}

// CountSupportTickets implements store.MetricsStore.
func (s *Store) CountSupportTickets(ctx context.Context, from, to time.Time) ([]store.TicketCount, error) {
	rows, err := s.queries.CountSupportTickets(ctx, dbsqlc.CountSupportTicketsParams{
		OpenedFrom: from.UnixMicro(), OpenedTo: to.UnixMicro(),
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: count support tickets: %w", err)
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
		return nil, fmt.Errorf("sqlite: service names of team %q: %w", team, err)
	}
	return names, nil
}

// DeliveryFacts implements store.MetricsStore: the period's whole days
// from deployment_days, its part-days from the deployments and their
// commits, and the restore times, each read by an index or a primary key.
// The reads are not one transaction: SQLite's transactions here take the
// write lock (see dsn), and an event recorded between two reads shows in
// one and not yet in the other, as it would a moment later in both.
func (s *Store) DeliveryFacts(ctx context.Context, services []string, environment string, from, to time.Time) (store.DeliveryFacts, error) {
	var facts store.DeliveryFacts
	if len(services) == 0 {
		return facts, nil
	}
	err := s.readDeliveryFacts(ctx, &facts, services, environment, from, to)
	if err != nil {
		return store.DeliveryFacts{}, fmt.Errorf("sqlite: delivery facts of %d services: %w", len(services), err)
	}
	return facts, nil
}

func (s *Store) readDeliveryFacts(ctx context.Context, facts *store.DeliveryFacts, services []string, environment string, from, to time.Time) error {
	counts := make(map[int64]*store.DeploymentDay)
	count := func(day, succeeded, failed, incidentCausing int64) {
		d, ok := counts[day]
		if !ok {
			d = &store.DeploymentDay{Day: time.UnixMicro(day).UTC()}
			counts[day] = d
		}
		d.Succeeded += succeeded
		d.Failed += failed
		d.IncidentCausing += incidentCausing
	}
	var leadTimes []int64
	head, whole, tail := delivery.Split(from, to)
	if !whole.Empty() {
		rows, err := s.queries.WholeDeploymentDays(ctx, dbsqlc.WholeDeploymentDaysParams{
			Environment: environment, DayFrom: whole.From.UnixMicro(), DayTo: whole.To.UnixMicro(), Services: services,
		})
		if err != nil {
			return err
		}
		for _, row := range rows {
			count(row.Day, row.Succeeded, row.Failed, row.IncidentCausing)
			if leadTimes, err = delivery.AppendDecodedMicros(leadTimes, row.LeadTimes); err != nil {
				return err
			}
		}
	}
	for _, part := range []delivery.Span{head, tail} {
		if part.Empty() {
			continue
		}
		rows, err := s.queries.PartDayDeployments(ctx, dbsqlc.PartDayDeploymentsParams{
			Environment: environment, FinishedFrom: part.From.UnixMicro(), FinishedTo: part.To.UnixMicro(), Services: services,
		})
		if err != nil {
			return err
		}
		for _, row := range rows {
			count(row.Day, row.Succeeded, row.Failed, row.IncidentCausing)
		}
		partLeadTimes, err := s.queries.PartDayLeadTimes(ctx, dbsqlc.PartDayLeadTimesParams{
			Environment: environment, FinishedFrom: part.From.UnixMicro(), FinishedTo: part.To.UnixMicro(), Services: services,
		})
		if err != nil {
			return err
		}
		leadTimes = append(leadTimes, partLeadTimes...)
	}
	for _, d := range counts {
		facts.Days = append(facts.Days, *d)
	}
	slices.SortFunc(facts.Days, func(a, b store.DeploymentDay) int { return a.Day.Compare(b.Day) })
	facts.LeadTimes = microsToDurations(leadTimes)
	restoreTimes, err := s.queries.RestoreTimes(ctx, dbsqlc.RestoreTimesParams{
		ResolvedFrom: from.UnixMicro(), ResolvedTo: to.UnixMicro(), Services: services,
	})
	if err != nil {
		return err
	}
	facts.RestoreTimes = microsToDurations(restoreTimes)
	return nil
}

// microsToDurations converts microseconds to durations.
func microsToDurations(micros []int64) []time.Duration {
	durations := make([]time.Duration, len(micros))
	for i, us := range micros {
		durations[i] = time.Duration(us) * time.Microsecond
	}
	return durations
}
