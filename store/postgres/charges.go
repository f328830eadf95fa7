package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

func (e *executor) InferredChargeDeployment(ctx context.Context, service string, environments []string, from, to time.Time) (int64, error) {
	return e.q.InferredChargeDeployment(ctx, dbsqlc.InferredChargeDeploymentParams{
		Service: service, FinishedFrom: from, FinishedTo: to, Environments: environments,
	})
}

func (e *executor) IncidentsToInfer(ctx context.Context, service string, from, to time.Time) ([]sqlstore.IncidentToInfer, error) {
	rows, err := e.q.IncidentsToInfer(ctx, dbsqlc.IncidentsToInferParams{Service: service, OpenedFrom: from, OpenedTo: to})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.IncidentsToInferRow, _ error) (sqlstore.IncidentToInfer, error) {
		return sqlstore.IncidentToInfer{ID: row.ID, OpenedAt: row.OpenedAt.UTC(), DeploymentID: row.ChargedDeploymentID.Int64}, nil
	})
}

func (e *executor) IncidentCharge(ctx context.Context, service, id string) (string, int64, string, error) {
	row, err := e.q.IncidentCharge(ctx, dbsqlc.IncidentChargeParams{Service: service, ID: id})
	return row.ChargeLink, row.ChargedDeploymentID.Int64, row.CauseRevision, err
}

func (e *executor) ChargeIncident(ctx context.Context, service, id string, deploymentID int64, link string) error {
	return e.q.ChargeIncident(ctx, dbsqlc.ChargeIncidentParams{
		ChargedDeploymentID: pgtype.Int8{Int64: deploymentID, Valid: deploymentID != 0}, ChargeLink: link, Service: service, ID: id,
	})
}

func (e *executor) DeploymentCharge(ctx context.Context, id int64) (sqlstore.DeploymentCharge, error) {
	row, err := e.q.DeploymentCharge(ctx, id)
	return sqlstore.DeploymentCharge{
		Environment: row.Environment, Status: row.Status, FinishedAt: row.FinishedAt.UTC(), Caused: row.CausedIncident, Charged: row.Charged,
	}, err
}

func (e *executor) SetCausedIncident(ctx context.Context, id int64, caused bool) error {
	return e.q.SetCausedIncident(ctx, dbsqlc.SetCausedIncidentParams{CausedIncident: caused, ID: id})
}

func (e *executor) RevisionDeployments(ctx context.Context, service, revision string) ([]store.DeploymentRef, error) {
	rows, err := e.q.RevisionDeployments(ctx, dbsqlc.RevisionDeploymentsParams{Service: service, Revision: revision})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.RevisionDeploymentsRow, _ error) (store.DeploymentRef, error) {
		return store.DeploymentRef{ID: row.ID, Environment: row.Environment, Revision: row.Revision, Status: row.Status, FinishedAt: row.FinishedAt.UTC()}, nil
	})
}

func (e *executor) GetDeploymentRef(ctx context.Context, id int64) (store.DeploymentRef, error) {
	row, err := e.q.GetDeploymentRef(ctx, id)
	return store.DeploymentRef{ID: row.ID, Environment: row.Environment, Revision: row.Revision, Status: row.Status, FinishedAt: row.FinishedAt.UTC()}, err
}

func (e *executor) ListDeployments(ctx context.Context, q store.DeploymentQuery) ([]store.ListedDeployment, error) {
	rows, err := e.q.ListDeployments(ctx, dbsqlc.ListDeploymentsParams{
		FinishedFrom: q.FinishedFrom, FinishedTo: q.FinishedTo,
		AfterFinished: q.AfterFinished, AfterID: q.AfterID,
		Environment: q.Environment, Status: q.Status, Services: q.Services, PageLimit: int64(q.Limit),
	})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ListDeploymentsRow, _ error) (store.ListedDeployment, error) {
		return store.ListedDeployment{ID: row.ID, Deployment: store.Deployment{
			Service: row.Service, Environment: row.Environment, Revision: row.Revision, Status: row.Status,
			StartedAt: row.StartedAt.UTC(), FinishedAt: row.FinishedAt.UTC(),
		}}, nil
	})
}

func (e *executor) DeploymentCommits(ctx context.Context, ids []int64) (map[int64][]store.Commit, error) {
	rows, err := e.q.DeploymentCommits(ctx, ids)
	if err != nil {
		return nil, err
	}
	commits := make(map[int64][]store.Commit)
	for _, row := range rows {
		commits[row.DeploymentID] = append(commits[row.DeploymentID], store.Commit{SHA: row.Sha, CommittedAt: row.CommittedAt.UTC()})
	}
	return commits, nil
}

// chargedIncident is a row of one of the incident queries that read the
// charge; the deployment has only its id.
func chargedIncident(row dbsqlc.ListIncidentsRow) store.ChargedIncident {
	return store.ChargedIncident{
		Incident: store.Incident{
			ID: row.ID, Service: row.Service, OpenedAt: row.OpenedAt.UTC(), ResolvedAt: timeOrZero(row.ResolvedAt),
			CauseRevision: row.CauseRevision,
		},
		Link: row.ChargeLink, Deployment: store.DeploymentRef{ID: row.ChargedDeploymentID.Int64},
	}
}

func (e *executor) IncidentsChargedTo(ctx context.Context, ids []int64) ([]store.ChargedIncident, error) {
	rows, err := e.q.IncidentsChargedTo(ctx, ids)
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.IncidentsChargedToRow, _ error) (store.ChargedIncident, error) {
		return chargedIncident(dbsqlc.ListIncidentsRow(row)), nil
	})
}

func (e *executor) IncidentsNaming(ctx context.Context, service, revision string) ([]store.ChargedIncident, error) {
	rows, err := e.q.IncidentsNaming(ctx, dbsqlc.IncidentsNamingParams{Service: service, Revision: revision})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.IncidentsNamingRow, _ error) (store.ChargedIncident, error) {
		return chargedIncident(dbsqlc.ListIncidentsRow(row)), nil
	})
}

func (e *executor) ListIncidents(ctx context.Context, q store.IncidentQuery) ([]store.ChargedIncident, error) {
	rows, err := e.q.ListIncidents(ctx, dbsqlc.ListIncidentsParams{
		OpenedFrom: q.OpenedFrom, OpenedTo: q.OpenedTo,
		AfterOpened: q.AfterOpened, AfterService: q.AfterService, AfterID: q.AfterID,
		State: q.State, Services: q.Services, PageLimit: int64(q.Limit),
	})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ListIncidentsRow, _ error) (store.ChargedIncident, error) {
		return chargedIncident(row), nil
	})
}

func (e *executor) OpenIncidentsOfRevision(ctx context.Context, service, revision string) ([]store.Incident, error) {
	rows, err := e.q.OpenIncidentsOfRevision(ctx, dbsqlc.OpenIncidentsOfRevisionParams{Service: service, Revision: revision})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.OpenIncidentsOfRevisionRow, _ error) (store.Incident, error) {
		return fromIncidentRow(dbsqlc.GetIncidentRow(row), nil)
	})
}
