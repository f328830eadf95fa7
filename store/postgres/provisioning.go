package postgres

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/provisioning"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// InsertProvisioning waits for a transaction that inserts the same service
// or request id and has not committed yet, and writes nothing if it
// commits.
func (e *executor) InsertProvisioning(ctx context.Context, p store.Provisioning, now time.Time) (store.Provisioning, error) {
	now = now.Truncate(time.Microsecond)
	return fromProvisioningRow(e.q.InsertProvisioning(ctx, dbsqlc.InsertProvisioningParams{
		Service: p.Service, RequestID: p.RequestID, Requester: p.Requester, Spec: columns.Spec(p.Spec),
		CreateTime: now, UpdateTime: now,
	}))
}

func (e *executor) GetProvisioning(ctx context.Context, service string) (store.Provisioning, error) {
	return fromProvisioningRow(e.q.GetProvisioning(ctx, service))
}

func (e *executor) GetProvisioningByRequestID(ctx context.Context, requester, requestID string) (store.Provisioning, error) {
	return fromProvisioningRow(e.q.GetProvisioningByRequestID(ctx, dbsqlc.GetProvisioningByRequestIDParams{Requester: requester, RequestID: requestID}))
}

func (e *executor) ListProvisionings(ctx context.Context, after string, limit int64) ([]store.Provisioning, error) {
	rows, err := e.q.ListProvisionings(ctx, dbsqlc.ListProvisioningsParams{After: after, MaxProvisionings: limit})
	return sqlstore.ConvertRows(rows, err, fromProvisioningRow)
}

func (e *executor) ListPendingProvisionings(ctx context.Context, after string, limit int64) ([]store.Provisioning, error) {
	rows, err := e.q.ListPendingProvisionings(ctx, dbsqlc.ListPendingProvisioningsParams{After: after, MaxProvisionings: limit})
	return sqlstore.ConvertRows(rows, err, fromProvisioningRow)
}

func (e *executor) UpdateProvisioningSpec(ctx context.Context, service string, spec store.ProvisioningSpec, generation int64, now time.Time) (store.Provisioning, error) {
	return fromProvisioningRow(e.q.UpdateProvisioningSpec(ctx, dbsqlc.UpdateProvisioningSpecParams{
		Service: service, Spec: columns.Spec(spec), Generation: generation, UpdateTime: now.Truncate(time.Microsecond),
	}))
}

func (e *executor) MarkProvisioningApplied(ctx context.Context, service string, generation int64) (int64, error) {
	return e.q.MarkProvisioningApplied(ctx, dbsqlc.MarkProvisioningAppliedParams{Service: service, Generation: generation})
}

func (e *executor) MarkProvisioningReady(ctx context.Context, service string, at time.Time) (int64, error) {
	return e.q.MarkProvisioningReady(ctx, dbsqlc.MarkProvisioningReadyParams{
		Service: service, ReadyTime: optionalTime(at.Truncate(time.Microsecond)),
	})
}

func (e *executor) InsertPromotion(ctx context.Context, p store.Promotion, now time.Time) (store.Promotion, error) {
	return fromPromotionRow(e.q.InsertPromotion(ctx, dbsqlc.InsertPromotionParams{
		Service: p.Service, RequestID: p.RequestID, Revision: p.Revision, Requester: p.Requester, CreateTime: now.Truncate(time.Microsecond),
		Environment: p.Environment, Rollback: p.Rollback, Evidence: columns.Evidence(p.Evidence),
	}))
}

func (e *executor) GetPromotion(ctx context.Context, service string, id int64) (store.Promotion, error) {
	return fromPromotionRow(e.q.GetPromotion(ctx, dbsqlc.GetPromotionParams{Service: service, ID: id}))
}

func (e *executor) GetPromotionByRequestID(ctx context.Context, service, requester, requestID string) (store.Promotion, error) {
	return fromPromotionRow(e.q.GetPromotionByRequestID(ctx, dbsqlc.GetPromotionByRequestIDParams{Service: service, Requester: requester, RequestID: requestID}))
}

func (e *executor) ListPromotions(ctx context.Context, service string, page provisioning.PromotionPage) ([]store.Promotion, error) {
	rows, err := e.q.ListPromotions(ctx, dbsqlc.ListPromotionsParams{Service: service, Before: page.Before, MaxPromotions: page.Limit})
	return sqlstore.ConvertRows(rows, err, fromPromotionRow)
}

func (e *executor) DecidePromotion(ctx context.Context, service string, id int64, state, decider, reason string, at time.Time) (store.Promotion, error) {
	return fromPromotionRow(e.q.DecidePromotion(ctx, dbsqlc.DecidePromotionParams{
		Service: service, ID: id, State: state, Decider: decider, Reason: reason, DecideTime: optionalTime(at.Truncate(time.Microsecond)),
	}))
}
