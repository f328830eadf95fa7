package postgres

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/delivery"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// serviceEventsLock is the first key of the advisory locks on which the
// writers of one service's deployments and incidents take turns (see
// LockServiceEvents); the second is a hash of the service's name.
const serviceEventsLock int32 = 0x6d657472 // "metr"

func (e *executor) LockServiceEvents(ctx context.Context, service string) error {
	return e.q.LockServiceEvents(ctx, dbsqlc.LockServiceEventsParams{LockClass: serviceEventsLock, Service: service})
}

func (e *executor) InsertDeployment(ctx context.Context, d store.Deployment, now time.Time) (int64, bool, error) {
	row, err := e.q.InsertDeployment(ctx, dbsqlc.InsertDeploymentParams{
		Service: d.Service, Environment: d.Environment, Revision: d.Revision, Status: d.Status,
		StartedAt: d.StartedAt, FinishedAt: d.FinishedAt, RecordedAt: now,
	})
	return row.ID, row.CausedIncident, err
}

func (e *executor) StoredDeployment(ctx context.Context, d store.Deployment) (int64, string, time.Time, error) {
	row, err := e.q.StoredDeployment(ctx, dbsqlc.StoredDeploymentParams{
		Service: d.Service, Revision: d.Revision, Environment: d.Environment, StartedAt: d.StartedAt,
	})
	return row.ID, row.Status, row.FinishedAt.UTC(), err
}

// InsertDeploymentCommits inserts the commits in one statement.
func (e *executor) InsertDeploymentCommits(ctx context.Context, id int64, commits []store.Commit) ([]store.Commit, error) {
	shas := make([]string, len(commits))
	committedAts := make([]time.Time, len(commits))
	for i, c := range commits {
		shas[i], committedAts[i] = c.SHA, c.CommittedAt
	}
	addedSHAs, err := e.q.InsertDeploymentCommits(ctx, dbsqlc.InsertDeploymentCommitsParams{
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

func (e *executor) CountDeployments(ctx context.Context, c sqlstore.DeploymentCount) error {
	return e.q.CountDeployments(ctx, dbsqlc.CountDeploymentsParams(c))
}

func (e *executor) InsertIncident(ctx context.Context, i store.Incident, now time.Time) (bool, error) {
	n, err := e.q.InsertIncident(ctx, dbsqlc.InsertIncidentParams{
		ID: i.ID, Service: i.Service, OpenedAt: i.OpenedAt, ResolvedAt: optionalTime(i.ResolvedAt),
		CauseRevision: i.CauseRevision, RecordedAt: now, ChargeLink: sqlstore.RecordedLink(i.CauseRevision),
	})
	return n > 0, err
}

func (e *executor) MarkIncidentCauses(ctx context.Context, service, revision string) ([]sqlstore.MarkedDeployment, error) {
	rows, err := e.q.MarkIncidentCauses(ctx, dbsqlc.MarkIncidentCausesParams{Service: service, Revision: revision})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.MarkIncidentCausesRow, _ error) (sqlstore.MarkedDeployment, error) {
		return sqlstore.MarkedDeployment(row), nil
	})
}

func (e *executor) GetIncident(ctx context.Context, service, id string) (store.Incident, error) {
	return fromIncidentRow(e.q.GetIncident(ctx, dbsqlc.GetIncidentParams{Service: service, ID: id}))
}

func (e *executor) FindIncidents(ctx context.Context, id string) ([]store.Incident, error) {
	rows, err := e.q.FindIncidents(ctx, id)
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.FindIncidentsRow, _ error) (store.Incident, error) {
		return fromIncidentRow(dbsqlc.GetIncidentRow(row), nil)
	})
}

func (e *executor) ResolveIncident(ctx context.Context, service, id string, at time.Time) error {
	_, err := e.q.ResolveIncident(ctx, dbsqlc.ResolveIncidentParams{ResolvedAt: at, Service: service, ID: id})
	return err
}

func (e *executor) InsertSupportTicket(ctx context.Context, t store.SupportTicket, now time.Time) (bool, error) {
	n, err := e.q.InsertSupportTicket(ctx, dbsqlc.InsertSupportTicketParams{
		Scope: t.Scope, ID: t.ID, Category: t.Category, Team: t.Team, OpenedAt: t.OpenedAt, RecordedAt: now,
	})
	return n > 0, err
}

func (e *executor) CountSupportTickets(ctx context.Context, from, to time.Time) ([]store.TicketCount, error) {
	rows, err := e.q.CountSupportTickets(ctx, dbsqlc.CountSupportTicketsParams{OpenedFrom: from, OpenedTo: to})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.CountSupportTicketsRow, _ error) (store.TicketCount, error) {
		return store.TicketCount{Category: row.Category, Count: row.Tickets}, nil
	})
}

func (e *executor) ServiceNames(ctx context.Context) ([]string, error) { return e.q.ServiceNames(ctx) }

func (e *executor) TeamServiceNames(ctx context.Context, team string) ([]string, error) {
	return e.q.TeamServiceNames(ctx, team)
}

// DeliveryFacts reads in one statement, one round trip: the period's whole days from deployment_days, its part-days from
// the deployments and their commits, and the restore times, each read by
// an index or a primary key.
func (e *executor) DeliveryFacts(ctx context.Context, services, environments []string, from, to time.Time) (store.DeliveryFacts, error) {
	var facts store.DeliveryFacts
	head, whole, tail := delivery.Split(from, to)
	row, err := e.q.DeliveryFacts(ctx, dbsqlc.DeliveryFactsParams{
		Services: services, Environments: environments, PeriodFrom: from, PeriodTo: to,
		WholeFrom: whole.From, WholeTo: whole.To, HeadFrom: head.From, HeadTo: head.To, TailFrom: tail.From, TailTo: tail.To,
	})
	if err != nil {
		return store.DeliveryFacts{}, err
	}
	facts.Days = make([]store.DeploymentDay, len(row.Days))
	for i, day := range row.Days {
		facts.Days[i] = store.DeploymentDay{
			Day: day.UTC(), Succeeded: row.Succeeded[i], Failed: row.Failed[i], IncidentCausing: row.IncidentCausing[i],
		}
	}
	leadTimes, err := delivery.AppendDecodedMicros(nil, row.LeadTimes)
	if err != nil {
		return store.DeliveryFacts{}, err
	}
	facts.LeadTimes = delivery.Durations(leadTimes)
	facts.RestoreTimes = delivery.Durations(row.RestoreTimes)
	return facts, nil
}
