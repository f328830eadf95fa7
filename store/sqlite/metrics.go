package sqlite

import (
	"context"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/delivery"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// LockServiceEvents does nothing: the transaction holds the write lock (see
// dsn).
func (e *executor) LockServiceEvents(context.Context, string) error { return nil }

func (e *executor) InsertDeployment(ctx context.Context, d store.Deployment, now time.Time) (int64, bool, error) {
	row, err := e.q.InsertDeployment(ctx, dbsqlc.InsertDeploymentParams{
		Service: d.Service, Environment: d.Environment, Revision: d.Revision, Status: d.Status,
		StartedAt: d.StartedAt.UnixMicro(), FinishedAt: d.FinishedAt.UnixMicro(), RecordedAt: now.UnixMicro(),
	})
	return row.ID, row.CausedIncident, err
}

func (e *executor) StoredDeployment(ctx context.Context, d store.Deployment) (int64, string, time.Time, error) {
	row, err := e.q.StoredDeployment(ctx, dbsqlc.StoredDeploymentParams{
		Service: d.Service, Revision: d.Revision, Environment: d.Environment, StartedAt: d.StartedAt.UnixMicro(),
	})
	return row.ID, row.Status, fromMicros(row.FinishedAt), err
}

// InsertDeploymentCommits inserts one commit a statement, each prepared
// once per transaction (see preparedTx).
func (e *executor) InsertDeploymentCommits(ctx context.Context, id int64, commits []store.Commit) ([]store.Commit, error) {
	var added []store.Commit
	for _, c := range commits {
		n, err := e.q.InsertDeploymentCommit(ctx, dbsqlc.InsertDeploymentCommitParams{
			DeploymentID: id, Sha: c.SHA, CommittedAt: c.CommittedAt.UnixMicro(),
		})
		if err != nil {
			return nil, err
		}
		if n > 0 {
			added = append(added, c)
		}
	}
	return added, nil
}

func (e *executor) CountDeployments(ctx context.Context, c sqlstore.DeploymentCount) error {
	return e.q.CountDeployments(ctx, dbsqlc.CountDeploymentsParams{
		Service: c.Service, Environment: c.Environment, Day: c.Day.UnixMicro(),
		Succeeded: c.Succeeded, Failed: c.Failed, IncidentCausing: c.IncidentCausing, LeadTimes: c.LeadTimes,
	})
}

func (e *executor) InsertIncident(ctx context.Context, i store.Incident, now time.Time) (bool, error) {
	n, err := e.q.InsertIncident(ctx, dbsqlc.InsertIncidentParams{
		ID: i.ID, Service: i.Service, OpenedAt: i.OpenedAt.UnixMicro(), ResolvedAt: optionalMicros(i.ResolvedAt),
		CauseRevision: i.CauseRevision, RecordedAt: now.UnixMicro(), ChargeLink: sqlstore.RecordedLink(i.CauseRevision),
	})
	return n > 0, err
}

func (e *executor) MarkIncidentCauses(ctx context.Context, service, revision string) ([]sqlstore.MarkedDeployment, error) {
	rows, err := e.q.MarkIncidentCauses(ctx, dbsqlc.MarkIncidentCausesParams{Service: service, Revision: revision})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.MarkIncidentCausesRow, _ error) (sqlstore.MarkedDeployment, error) {
		return sqlstore.MarkedDeployment{Environment: row.Environment, Status: row.Status, FinishedAt: fromMicros(row.FinishedAt)}, nil
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
	_, err := e.q.ResolveIncident(ctx, dbsqlc.ResolveIncidentParams{ResolvedAt: at.UnixMicro(), Service: service, ID: id})
	return err
}

func (e *executor) InsertSupportTicket(ctx context.Context, t store.SupportTicket, now time.Time) (bool, error) {
	n, err := e.q.InsertSupportTicket(ctx, dbsqlc.InsertSupportTicketParams{
		Scope: t.Scope, ID: t.ID, Category: t.Category, Team: t.Team, OpenedAt: t.OpenedAt.UnixMicro(), RecordedAt: now.UnixMicro(),
	})
	return n > 0, err
}

func (e *executor) CountSupportTickets(ctx context.Context, from, to time.Time) ([]store.TicketCount, error) {
	rows, err := e.q.CountSupportTickets(ctx, dbsqlc.CountSupportTicketsParams{OpenedFrom: from.UnixMicro(), OpenedTo: to.UnixMicro()})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.CountSupportTicketsRow, _ error) (store.TicketCount, error) {
		return store.TicketCount{Category: row.Category, Count: row.Tickets}, nil
	})
}

func (e *executor) ServiceNames(ctx context.Context) ([]string, error) { return e.q.ServiceNames(ctx) }

func (e *executor) TeamServiceNames(ctx context.Context, team string) ([]string, error) {
	return e.q.TeamServiceNames(ctx, team)
}

// DeliveryFacts reads the period's whole days from deployment_days, its
// part-days from the deployments and their commits, and the restore times,
// each by an index or a primary key. The reads are not one transaction:
// SQLite's transactions here take the write lock (see dsn), and an event
// recorded between two reads shows in one and not yet in the other, as it
// would a moment later in both.
func (e *executor) DeliveryFacts(ctx context.Context, services, environments []string, from, to time.Time) (store.DeliveryFacts, error) {
	var facts store.DeliveryFacts
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
		rows, err := e.q.WholeDeploymentDays(ctx, dbsqlc.WholeDeploymentDaysParams{
			Environments: environments, DayFrom: whole.From.UnixMicro(), DayTo: whole.To.UnixMicro(), Services: services,
		})
		if err != nil {
			return store.DeliveryFacts{}, err
		}
		for _, row := range rows {
			count(row.Day, row.Succeeded, row.Failed, row.IncidentCausing)
			if leadTimes, err = delivery.AppendDecodedMicros(leadTimes, row.LeadTimes); err != nil {
				return store.DeliveryFacts{}, err
			}
		}
	}
	for _, part := range []delivery.Span{head, tail} {
		if part.Empty() {
			continue
		}
		rows, err := e.q.PartDayDeployments(ctx, dbsqlc.PartDayDeploymentsParams{
			Environments: environments, FinishedFrom: part.From.UnixMicro(), FinishedTo: part.To.UnixMicro(), Services: services,
		})
		if err != nil {
			return store.DeliveryFacts{}, err
		}
		for _, row := range rows {
			count(row.Day, row.Succeeded, row.Failed, row.IncidentCausing)
		}
		partLeadTimes, err := e.q.PartDayLeadTimes(ctx, dbsqlc.PartDayLeadTimesParams{
			Environments: environments, FinishedFrom: part.From.UnixMicro(), FinishedTo: part.To.UnixMicro(), Services: services,
		})
		if err != nil {
			return store.DeliveryFacts{}, err
		}
		leadTimes = append(leadTimes, partLeadTimes...)
	}
	for _, d := range counts {
		facts.Days = append(facts.Days, *d)
	}
	slices.SortFunc(facts.Days, func(a, b store.DeploymentDay) int { return a.Day.Compare(b.Day) })
	facts.LeadTimes = delivery.Durations(leadTimes)
	restoreTimes, err := e.q.RestoreTimes(ctx, dbsqlc.RestoreTimesParams{
		ResolvedFrom: from.UnixMicro(), ResolvedTo: to.UnixMicro(), Services: services,
	})
	if err != nil {
		return store.DeliveryFacts{}, err
	}
	facts.RestoreTimes = delivery.Durations(restoreTimes)
	return facts, nil
}
