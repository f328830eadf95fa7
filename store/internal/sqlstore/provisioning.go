package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/provisioning"
)

// CreateProvisioning implements store.ProvisioningStore. It inserts the
// provisioning first: should its service or request id be taken, even by a
// transaction that has not committed yet, the insert waits for that one to
// end and writes nothing if it committed, before anything else is written.
// A statement then sees what that transaction committed. (On SQLite the
// transaction holds the write lock from the start, so that no other write
// comes between its checks and its writes.)
func (s *Store) CreateProvisioning(ctx context.Context, p store.Provisioning, svc *store.Service) (store.Provisioning, bool, error) {
	var (
		stored  store.Provisioning
		created bool
	)
	err := provisioning.CheckCreate(p, svc)
	if err == nil {
		err = s.inTx(ctx, func(x Executor) error {
			now := time.Now()
			inserted, err := x.InsertProvisioning(ctx, p, now)
			if s.d.IsNoRows(err) {
				stored, err = s.takenProvisioning(ctx, x, p.Requester, p.RequestID)
				return err
			}
			if err != nil {
				return err
			}
			if err := s.createServiceIfMissing(ctx, x, svc, now); err != nil {
				return err
			}
			stored, created = inserted, true
			return nil
		})
	}
	if err != nil {
		return store.Provisioning{}, false, s.failed(fmt.Sprintf("create provisioning %q", p.Service), err)
	}
	return stored, created, nil
}

// takenProvisioning is what CreateProvisioning returns when
// InsertProvisioning found the service or the request id taken: the
// provisioning of requester's requestID if there is one, else
// ErrAlreadyExists.
func (s *Store) takenProvisioning(ctx context.Context, x Executor, requester, requestID string) (store.Provisioning, error) {
	if requestID != "" {
		p, err := x.GetProvisioningByRequestID(ctx, requester, requestID)
		err = s.notFound(err)
		if !errors.Is(err, store.ErrNotFound) {
			return p, err
		}
	}
	return store.Provisioning{}, store.ErrAlreadyExists
}

// GetProvisioning implements store.ProvisioningStore.
func (s *Store) GetProvisioning(ctx context.Context, service string) (store.Provisioning, error) {
	p, err := s.d.GetProvisioning(ctx, service)
	err = s.notFound(err)
	if err != nil {
		return store.Provisioning{}, s.failed(fmt.Sprintf("get provisioning %q", service), err)
	}
	return p, nil
}

// ListProvisionings implements store.ProvisioningStore.
func (s *Store) ListProvisionings(ctx context.Context, after string, limit int) ([]store.Provisioning, error) {
	provisionings, err := s.d.ListProvisionings(ctx, after, int64(max(limit, 0)))
	if err != nil {
		return nil, s.failed("list provisionings", err)
	}
	return provisionings, nil
}

// ListPendingProvisionings implements store.ProvisioningStore.
func (s *Store) ListPendingProvisionings(ctx context.Context, after string, limit int) ([]store.Provisioning, error) {
	provisionings, err := s.d.ListPendingProvisionings(ctx, after, int64(max(limit, 0)))
	if err != nil {
		return nil, s.failed("list provisionings", err)
	}
	return provisionings, nil
}

// UpdateProvisioningSpec implements store.ProvisioningStore. The one
// statement that checks the generation writes the spec.
func (s *Store) UpdateProvisioningSpec(ctx context.Context, service string, spec store.ProvisioningSpec, generation int64) (store.Provisioning, error) {
	p, err := s.d.UpdateProvisioningSpec(ctx, service, spec, generation, time.Now())
	err = s.notFound(err)
	if errors.Is(err, store.ErrNotFound) {
		// Nothing updated: the provisioning is missing, or at another
		// generation.
		_, err = s.d.GetProvisioning(ctx, service)
		if err = s.notFound(err); err == nil {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return store.Provisioning{}, s.failed(fmt.Sprintf("update provisioning spec %q", service), err)
	}
	return p, nil
}

// MarkProvisioningApplied implements store.ProvisioningStore.
func (s *Store) MarkProvisioningApplied(ctx context.Context, service string, generation int64) error {
	n, err := s.d.MarkProvisioningApplied(ctx, service, generation)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return s.failed(fmt.Sprintf("mark provisioning %q applied", service), err)
	}
	return nil
}

// MarkProvisioningReady implements store.ProvisioningStore.
func (s *Store) MarkProvisioningReady(ctx context.Context, service string, at time.Time) error {
	n, err := s.d.MarkProvisioningReady(ctx, service, at)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return s.failed(fmt.Sprintf("mark provisioning %q ready", service), err)
	}
	return nil
}

// CreatePromotion implements store.ProvisioningStore.
func (s *Store) CreatePromotion(ctx context.Context, p store.Promotion) (store.Promotion, bool, error) {
	if p.Environment == "" {
		p.Environment = store.DefaultPromotionEnvironment
	}
	stored, err := s.d.InsertPromotion(ctx, p, time.Now())
	created := err == nil
	if s.d.IsNoRows(err) && p.RequestID != "" {
		// Nothing inserted: the request id is taken, by a promotion that
		// has committed, or the service has no provisioning.
		stored, err = s.d.GetPromotionByRequestID(ctx, p.Service, p.Requester, p.RequestID)
	}
	err = s.notFound(err)
	if err != nil {
		return store.Promotion{}, false, s.failed(fmt.Sprintf("create promotion of %q", p.Service), err)
	}
	return stored, created, nil
}

// GetPromotion implements store.ProvisioningStore.
func (s *Store) GetPromotion(ctx context.Context, service string, id int64) (store.Promotion, error) {
	p, err := s.d.GetPromotion(ctx, service, id)
	err = s.notFound(err)
	if err != nil {
		return store.Promotion{}, s.failed(fmt.Sprintf("get promotion %d of %q", id, service), err)
	}
	return p, nil
}

// ListPromotions implements store.ProvisioningStore.
func (s *Store) ListPromotions(ctx context.Context, service string, before int64, limit int) ([]store.Promotion, error) {
	promotions, err := s.d.ListPromotions(ctx, service, provisioning.NewPromotionPage(before, limit))
	if err != nil {
		return nil, s.failed(fmt.Sprintf("list promotions of %q", service), err)
	}
	return promotions, nil
}

// DecidePromotion implements store.ProvisioningStore. The one statement
// that checks the promotion is pending decides it: of two concurrent ones,
// the second waits for the first, then finds it decided.
func (s *Store) DecidePromotion(ctx context.Context, service string, id int64, state, decider, reason string, at time.Time) (store.Promotion, error) {
	var p store.Promotion
	err := provisioning.CheckDecision(state)
	if err == nil {
		p, err = s.d.DecidePromotion(ctx, service, id, state, decider, reason, at)
		err = s.notFound(err)
		if errors.Is(err, store.ErrNotFound) {
			// Nothing decided: the promotion is missing, or decided
			// already.
			_, err = s.d.GetPromotion(ctx, service, id)
			if err = s.notFound(err); err == nil {
				err = store.ErrConflict
			}
		}
	}
	if err != nil {
		return store.Promotion{}, s.failed(fmt.Sprintf("decide promotion %d of %q", id, service), err)
	}
	return p, nil
}
