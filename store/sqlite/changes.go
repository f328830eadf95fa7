package sqlite

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

func (e *executor) ChangeDeployments(ctx context.Context, services, environments []string, from, to time.Time) ([]store.Change, error) {
	rows, err := e.q.ChangeDeployments(ctx, dbsqlc.ChangeDeploymentsParams{
		FinishedFrom: from.UnixMicro(), FinishedTo: to.UnixMicro(), Environments: environments, Services: services,
	})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ChangeDeploymentsRow, _ error) (store.Change, error) {
		return store.Change{
			Service: row.Service, Kind: store.ChangeDeployment, Environment: row.Environment,
			Revision: row.Revision, Time: fromMicros(row.FinishedAt),
		}, nil
	})
}

func (e *executor) ChangePromotions(ctx context.Context, services, environments []string, from, to time.Time) ([]store.Change, error) {
	rows, err := e.q.ChangePromotions(ctx, dbsqlc.ChangePromotionsParams{
		DecidedFrom: from.UnixMicro(), DecidedTo: to.UnixMicro(), Environments: environments, Services: services,
	})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ChangePromotionsRow, _ error) (store.Change, error) {
		return store.Change{
			Service: row.Service, Kind: store.ChangePromotion, Environment: row.Environment,
			Revision: row.Revision, Time: fromMicros(row.DecideTime), PromotionID: row.ID,
		}, nil
	})
}

func (e *executor) ChangeDeploymentDays(ctx context.Context, services, environments []string, from, to time.Time) ([]store.ChangeDay, error) {
	rows, err := e.q.ChangeDeploymentDays(ctx, dbsqlc.ChangeDeploymentDaysParams{
		FinishedFrom: from.UnixMicro(), FinishedTo: to.UnixMicro(), Environments: environments, Services: services,
	})
	return sqlstore.ConvertRows(rows, err, func(row dbsqlc.ChangeDeploymentDaysRow, _ error) (store.ChangeDay, error) {
		return store.ChangeDay{Service: row.Service, Day: fromMicros(row.Day), Changes: row.Changes}, nil
	})
}
