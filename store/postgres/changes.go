package postgres

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

func (e *executor) ChangeDeployments(ctx context.Context, services, environments []string, from, to time.Time) ([]store.Change, error) {
	rows, err := e.q.ChangeDeployments(ctx, dbsqlc.ChangeDeploymentsParams{
		Services: services, Environments: environments, FinishedFrom: from, FinishedTo: to,
	})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ChangeDeploymentsRow, _ error) (store.Change, error) {
		return store.Change{
			Service: row.Service, Kind: store.ChangeDeployment, Environment: row.Environment,
			Revision: row.Revision, Time: row.FinishedAt.UTC(),
		}, nil
	})
}

func (e *executor) ChangePromotions(ctx context.Context, services, environments []string, from, to time.Time) ([]store.Change, error) {
	rows, err := e.q.ChangePromotions(ctx, dbsqlc.ChangePromotionsParams{
		Services: services, Environments: environments, DecidedFrom: from, DecidedTo: to,
	})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ChangePromotionsRow, _ error) (store.Change, error) {
		return store.Change{
			Service: row.Service, Kind: store.ChangePromotion, Environment: row.Environment,
			Revision: row.Revision, Time: row.DecideTime.UTC(), PromotionID: row.ID,
		}, nil
	})
}

func (e *executor) ChangeDeploymentDays(ctx context.Context, services, environments []string, from, to time.Time) ([]store.ChangeDay, error) {
	rows, err := e.q.ChangeDeploymentDays(ctx, dbsqlc.ChangeDeploymentDaysParams{
		Services: services, Environments: environments, FinishedFrom: from, FinishedTo: to,
	})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ChangeDeploymentDaysRow, _ error) (store.ChangeDay, error) {
		return store.ChangeDay{Service: row.Service, Day: row.Day.UTC(), Changes: row.Changes}, nil
	})
}
