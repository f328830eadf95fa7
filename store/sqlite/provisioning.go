package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/jsoncol"
	"github.com/cairn-dev/cairn/store/internal/provisioning"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// CreateProvisioning implements store.ProvisioningStore. Its transaction
// holds the write lock from the start (see dsn), so that no other write
// comes between its checks and its writes.
func (s *Store) CreateProvisioning(ctx context.Context, p store.Provisioning, svc *store.Service) (store.Provisioning, bool, error) {
	var (
		stored  store.Provisioning
		created bool
	)
	err := provisioning.CheckCreate(p, svc)
	if err == nil {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			q := s.queries.WithTx(tx)
			now := time.Now()
			row, err := q.InsertProvisioning(ctx, toProvisioningParams(p, now))
			if errors.Is(err, sql.ErrNoRows) {
				stored, err = takenProvisioning(ctx, q, p.Requester, p.RequestID)
				return err
			}
			if err != nil {
				return err
			}
			if err := createServiceIfMissing(ctx, q, svc, now); err != nil {
				return err
			}
			stored, err = fromProvisioningRow(row)
			created = err == nil
			return err
		})
	}
	if err != nil {
		return store.Provisioning{}, false, fmt.Errorf("sqlite: create provisioning %q: %w", p.Service, err)
	}
	return stored, created, nil
}

// takenProvisioning is what CreateProvisioning returns when
// InsertProvisioning found the service or the request id taken: the
// provisioning of requester's requestID if there is one, else
// ErrAlreadyExists.
func takenProvisioning(ctx context.Context, q *dbsqlc.Queries, requester, requestID string) (store.Provisioning, error) {
	if requestID != "" {
		p, err := provisioningFound(q.GetProvisioningByRequestID(ctx, dbsqlc.GetProvisioningByRequestIDParams{Requester: requester, RequestID: requestID}))
		if !errors.Is(err, store.ErrNotFound) {
			return p, err
		}
	}
	return store.Provisioning{}, store.ErrAlreadyExists
}

// GetProvisioning implements store.ProvisioningStore.
func (s *Store) GetProvisioning(ctx context.Context, service string) (store.Provisioning, error) {
	p, err := provisioningFound(s.queries.GetProvisioning(ctx, service))
	if err != nil {
		return store.Provisioning{}, fmt.Errorf("sqlite: get provisioning %q: %w", service, err)
	}
	return p, nil
}

// ListProvisionings implements store.ProvisioningStore.
func (s *Store) ListProvisionings(ctx context.Context, after string, limit int) ([]store.Provisioning, error) {
	rows, err := s.queries.ListProvisionings(ctx, dbsqlc.ListProvisioningsParams{
		After: after,
		// SQLite reads a negative LIMIT as no limit at all.
		MaxProvisionings: int64(max(limit, 0)),
	})
	return fromProvisioningRows(rows, err)
}

// ListPendingProvisionings implements store.ProvisioningStore.
func (s *Store) ListPendingProvisionings(ctx context.Context, after string, limit int) ([]store.Provisioning, error) {
	rows, err := s.queries.ListPendingProvisionings(ctx, dbsqlc.ListPendingProvisioningsParams{
		After: after, MaxProvisionings: int64(max(limit, 0)),
	})
	return fromProvisioningRows(rows, err)
}

func fromProvisioningRows(rows []dbsqlc.Provisioning, err error) ([]store.Provisioning, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlite: list provisionings: %w", err)
	}
	provisionings := make([]store.Provisioning, 0, len(rows))
	for _, row := range rows {
		p, err := fromProvisioningRow(row)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list provisionings: %w", err)
		}
		provisionings = append(provisionings, p)
	}
	return provisionings, nil
}

// UpdateProvisioningSpec implements store.ProvisioningStore. The one
// statement that checks the generation writes the spec.
func (s *Store) UpdateProvisioningSpec(ctx context.Context, service string, spec store.ProvisioningSpec, generation int64) (store.Provisioning, error) {
	p, err := provisioningFound(s.queries.UpdateProvisioningSpec(ctx, dbsqlc.UpdateProvisioningSpecParams{
		Service:    service,
		Spec:       string(jsoncol.EncodeSpec(spec)),
		Generation: generation,
		UpdateTime: time.Now().UnixMicro(),
	}))
	if errors.Is(err, store.ErrNotFound) {
		// Nothing updated: the provisioning is missing, or at another
		// generation.
		if _, err = provisioningFound(s.queries.GetProvisioning(ctx, service)); err == nil {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return store.Provisioning{}, fmt.Errorf("sqlite: update provisioning spec %q: %w", service, err)
	}
	return p, nil
}

// MarkProvisioningApplied implements store.ProvisioningStore.
func (s *Store) MarkProvisioningApplied(ctx context.Context, service string, generation int64) error {
	n, err := s.queries.MarkProvisioningApplied(ctx, dbsqlc.MarkProvisioningAppliedParams{Service: service, Generation: generation})
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: mark provisioning %q applied: %w", service, err)
	}
	return nil
}

// MarkProvisioningReady implements store.ProvisioningStore.
func (s *Store) MarkProvisioningReady(ctx context.Context, service string, at time.Time) error {
	n, err := s.queries.MarkProvisioningReady(ctx, dbsqlc.MarkProvisioningReadyParams{Service: service, ReadyTime: optionalMicros(at)})
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: mark provisioning %q ready: %w", service, err)
	}
	return nil
}

// CreatePromotion implements store.ProvisioningStore.
func (s *Store) CreatePromotion(ctx context.Context, p store.Promotion) (store.Promotion, bool, error) {
	row, err := s.queries.InsertPromotion(ctx, dbsqlc.InsertPromotionParams{
		Service:    p.Service,
		RequestID:  p.RequestID,
		Revision:   p.Revision,
		Requester:  p.Requester,
		CreateTime: time.Now().UnixMicro(),
	})
	created := err == nil
	if errors.Is(err, sql.ErrNoRows) && p.RequestID != "" {
		// Nothing inserted: the request id is taken, or the service has
		// no provisioning.
		row, err = s.queries.GetPromotionByRequestID(ctx, dbsqlc.GetPromotionByRequestIDParams{Service: p.Service, Requester: p.Requester, RequestID: p.RequestID})
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Promotion{}, false, fmt.Errorf("sqlite: create promotion of %q: %w", p.Service, err)
	}
	return fromPromotionRow(row), created, nil
}

// GetPromotion implements store.ProvisioningStore.
func (s *Store) GetPromotion(ctx context.Context, service string, id int64) (store.Promotion, error) {
	p, err := promotionFound(s.queries.GetPromotion(ctx, dbsqlc.GetPromotionParams{Service: service, ID: id}))
	if err != nil {
		return store.Promotion{}, fmt.Errorf("sqlite: get promotion %d of %q: %w", id, service, err)
	}
	return p, nil
}

// ListPromotions implements store.ProvisioningStore.
func (s *Store) ListPromotions(ctx context.Context, service string, before int64, limit int) ([]store.Promotion, error) {
	page := provisioning.NewPromotionPage(before, limit)
	rows, err := s.queries.ListPromotions(ctx, dbsqlc.ListPromotionsParams{
		Service:       service,
		Before:        page.Before,
		MaxPromotions: page.Limit,
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list promotions of %q: %w", service, err)
	}
	promotions := make([]store.Promotion, 0, len(rows))
	for _, row := range rows {
		promotions = append(promotions, fromPromotionRow(row))
	}
	return promotions, nil
}

// DecidePromotion implements store.ProvisioningStore. The one statement
// that checks the promotion is pending decides it.
func (s *Store) DecidePromotion(ctx context.Context, service string, id int64, state, decider, reason string, at time.Time) (store.Promotion, error) {
	var p store.Promotion
	err := provisioning.CheckDecision(state)
	if err == nil {
		p, err = promotionFound(s.queries.DecidePromotion(ctx, dbsqlc.DecidePromotionParams{
			Service:    service,
			ID:         id,
			State:      state,
			Decider:    decider,
			Reason:     reason,
			DecideTime: optionalMicros(at),
		}))
		if errors.Is(err, store.ErrNotFound) {
			// Nothing decided: the promotion is missing, or decided
			// already.
			if _, err = promotionFound(s.queries.GetPromotion(ctx, dbsqlc.GetPromotionParams{Service: service, ID: id})); err == nil {
				err = store.ErrConflict
			}
		}
	}
	if err != nil {
		return store.Promotion{}, fmt.Errorf("sqlite: decide promotion %d of %q: %w", id, service, err)
	}
	return p, nil
}

// provisioningFound is the provisioning a query read, or ErrNotFound when
// it read none.
func provisioningFound(row dbsqlc.Provisioning, err error) (store.Provisioning, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return store.Provisioning{}, store.ErrNotFound
	}
	if err != nil {
		return store.Provisioning{}, err
	}
	return fromProvisioningRow(row)
}

// promotionFound is the promotion a query read, or ErrNotFound when it read
// none.
func promotionFound(row dbsqlc.Promotion, err error) (store.Promotion, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return store.Promotion{}, store.ErrNotFound
	}
	if err != nil {
		return store.Promotion{}, err
	}
	return fromPromotionRow(row), nil
}
