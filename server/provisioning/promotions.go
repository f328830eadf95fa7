package provisioning

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/server/pagetoken"
	"github.com/cairn-dev/cairn/store"
)

// Promotion states.
const (
	StatePending  = "pending"
	StateApproved = "approved"
	StateDenied   = "denied"
)

// RequestPromotion asks for revision to be deployed to production. The
// requester must act for the service's team; the request waits for an
// approver.
func (p *Provisioner) RequestPromotion(ctx context.Context, service, revision, requestID string) (store.Promotion, error) {
	if err := p.requireCluster(); err != nil {
		return store.Promotion{}, err
	}
	prov, err := p.provisioningOf(ctx, service)
	if err != nil {
		return store.Promotion{}, err
	}
	if err := auth.RequireTeam(ctx, prov.Spec.Team, "change services of"); err != nil {
		return store.Promotion{}, err
	}
	if !slices.Contains(prov.Spec.Environments, manifest.EnvironmentProduction) {
		return store.Promotion{}, &apierr.Error{
			Code: codes.FailedPrecondition, Reason: "NO_PRODUCTION",
			Message: fmt.Sprintf("service %q does not deploy to production", service),
		}
	}
	if revision == "" {
		return store.Promotion{}, apierr.Invalid(apierr.FieldViolation{Field: "promotion.revision", Description: "is required"})
	}
	promotion, _, err := p.store.CreatePromotion(ctx, store.Promotion{
		Service: service, RequestID: requestID, Revision: revision, Requester: auth.Name(ctx),
	})
	return promotion, err
}

// Decide approves or denies a pending promotion. The decider must be an
// approver of the service's team and not the requester. On approval the
// production Application is pointed at the revision and a sync requested.
func (p *Provisioner) Decide(ctx context.Context, service string, id int64, approve bool, reason string) (store.Promotion, error) {
	if err := p.requireCluster(); err != nil {
		return store.Promotion{}, err
	}
	prov, err := p.provisioningOf(ctx, service)
	if err != nil {
		return store.Promotion{}, err
	}
	promotion, err := p.store.GetPromotion(ctx, service, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Promotion{}, apierr.NotFound("promotion", promotionName(service, id))
	}
	if err != nil {
		return store.Promotion{}, err
	}
	if err := auth.RequireTeam(ctx, prov.Spec.Team, "decide promotions of"); err != nil {
		return store.Promotion{}, err
	}
	// Requesters stored before names were canonical may differ from the
	// decider's name in case alone: compare canonically.
	decider := auth.Name(ctx)
	if auth.SamePrincipal(decider, promotion.Requester) {
		return store.Promotion{}, apierr.PermissionDenied("OWN_REQUEST",
			"a promotion is decided by someone other than its requester")
	}
	state := StateDenied
	if approve {
		state = StateApproved
	}
	decided, err := p.store.DecidePromotion(ctx, service, id, state, decider, reason, time.Now())
	if errors.Is(err, store.ErrConflict) {
		return store.Promotion{}, &apierr.Error{
			Code: codes.FailedPrecondition, Reason: "PROMOTION_DECIDED",
			Message: fmt.Sprintf("promotion %s is %s already", promotionName(service, id), promotion.State),
		}
	}
	if err != nil || !approve {
		return decided, err
	}
	return decided, p.promote(ctx, prov, decided)
}

// promote points production at the approved revision and asks Argo CD to
// sync it. The spec change is stored first, so that the reconciler applies
// it even if this call fails half way.
func (p *Provisioner) promote(ctx context.Context, prov store.Provisioning, promotion store.Promotion) error {
	spec := prov.Spec
	spec.ProductionRevision = promotion.Revision
	updated, err := p.store.UpdateProvisioningSpec(ctx, prov.Service, spec, prov.Generation)
	if err != nil {
		return fmt.Errorf("promote %s: %w", prov.Service, err)
	}
	app := manifest.Application(p.plan(prov.Service, updated.Spec), manifest.EnvironmentProduction, p.settings)
	if err := p.cluster.Apply(ctx, app); err != nil {
		p.wake()
		return fmt.Errorf("promote %s: %w", prov.Service, err)
	}
	return p.cluster.RequestSync(ctx, app.GetNamespace(), app.GetName(), promotion.Revision, "cairn:"+promotion.Decider)
}

// ListPromotions returns a page of a service's promotions, newest first.
func (p *Provisioner) ListPromotions(ctx context.Context, service string, pageSize int32, pageToken string) ([]store.Promotion, string, error) {
	query := "promotions of " + service
	before, err := pagetoken.DecodeInt(pageToken, query)
	if err != nil {
		return nil, "", apierr.Invalid(apierr.FieldViolation{Field: "page_token", Description: err.Error()})
	}
	size := pagetoken.Size(pageSize)
	promotions, err := p.store.ListPromotions(ctx, service, before, size+1)
	if err != nil {
		return nil, "", err
	}
	promotions, next := pagetoken.Page(promotions, size, query, func(pr store.Promotion) string { return fmt.Sprint(pr.ID) })
	return promotions, next, nil
}

func promotionName(service string, id int64) string {
	return fmt.Sprintf("services/%s/promotions/%d", service, id)
}
