package provisioning

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/audit"
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

// PromotionRequest is a request to promote a revision into an
// environment.
type PromotionRequest struct {
	Service, Environment, Revision, RequestID string
	// Force lets an admin promote a revision the environment before does
	// not run, where the path requires it to.
	Force bool
}

// RequestPromotion asks for a revision to be deployed into an environment
// of the promotion path: one the service deploys to and that takes
// promotions. The requester must act for the service's team. Where the
// path requires it, the revision must be what the environment before runs
// (an admin may force past it); a revision the environment ran before is a
// rollback, and is not checked against the environment before. Where the
// environment needs an approver the request waits for one; else it is
// approved, in the requester's name, and synced at once.
func (p *Provisioner) RequestPromotion(ctx context.Context, r PromotionRequest) (store.Promotion, error) {
	if err := p.requireCluster(); err != nil {
		return store.Promotion{}, err
	}
	prov, err := p.provisioningOf(ctx, r.Service)
	if err != nil {
		return store.Promotion{}, err
	}
	if err := auth.RequireTeam(ctx, prov.Spec.Team, "change services of"); err != nil {
		return store.Promotion{}, err
	}
	if r.Revision == "" {
		return store.Promotion{}, apierr.Invalid(apierr.FieldViolation{Field: "promotion.revision", Description: "is required"})
	}
	target, err := p.promotionTarget(prov, r.Environment)
	if err != nil {
		return store.Promotion{}, err
	}
	apps := applicationsByEnvironment(p.cluster, r.Service)
	rollback, err := p.ranBefore(ctx, prov, target.Name, apps[target.Name], r.Revision)
	if err != nil {
		return store.Promotion{}, err
	}
	forced := false
	if !rollback && target.Promotion.RequireRunning {
		if forced, err = p.requireRunning(ctx, apps[target.Promotion.From], target, r.Revision, r.Force); err != nil {
			return store.Promotion{}, err
		}
	}
	var evidence *store.PromotionEvidence
	if p.evidence != nil {
		if evidence, err = p.evidence.PromotionEvidence(ctx, prov, target.Name, runningRevision(apps[target.Name])); err != nil {
			return store.Promotion{}, err
		}
	}
	promotion, created, err := p.store.CreatePromotion(ctx, store.Promotion{
		Service: r.Service, Environment: target.Name, RequestID: r.RequestID, Revision: r.Revision,
		Requester: auth.Name(ctx), Rollback: rollback, Evidence: evidence,
	})
	if err != nil {
		return promotion, err
	}
	if !created {
		audit.Describe(ctx, fmt.Sprintf("a repeated request: %s, as first requested", promotionDetail(promotion)))
		return promotion, nil
	}
	detail := promotionDetail(promotion) + "; " + runsNow(target.Name, apps[target.Name])
	if forced {
		detail += fmt.Sprintf("; forced past %s, where %s", target.Promotion.From, runsNow(target.Promotion.From, apps[target.Promotion.From]))
	}
	if promotion.Evidence != nil {
		detail += "; " + EvidenceSummary(*promotion.Evidence)
	}
	if target.Promotion.Approval {
		audit.Describe(ctx, detail+"; waits for an approver")
		return promotion, nil
	}
	audit.Describe(ctx, fmt.Sprintf("%s; approved at once: %s needs no approver", detail, target.Name))
	decided, err := p.store.DecidePromotion(ctx, r.Service, promotion.ID, StateApproved, promotion.Requester,
		fmt.Sprintf("%s needs no approver", target.Name), time.Now())
	if err != nil {
		return promotion, err
	}
	return decided, p.promote(ctx, prov, decided)
}

// promotionDetail says what a promotion deploys where, and whether it is
// a rollback, as its audit events tell it.
func promotionDetail(pr store.Promotion) string {
	if pr.Rollback {
		return fmt.Sprintf("rollback of %s to %s, a revision it ran before", pr.Environment, pr.Revision)
	}
	return fmt.Sprintf("promotion of %s into %s", pr.Revision, pr.Environment)
}

// runsNow says what env's Application app reports it runs, as a clause of
// an audit detail.
func runsNow(env string, app *unstructured.Unstructured) string {
	if running := runningRevision(app); running != "" {
		return env + " runs " + running
	}
	return env + " runs nothing yet"
}

// promotionTarget returns the environment a promotion of prov goes to:
// env, or when env is empty the one environment of the service that takes
// promotions.
func (p *Provisioner) promotionTarget(prov store.Provisioning, env string) (manifest.Environment, error) {
	path := strings.Join(p.settings.EnvironmentNames(), " -> ")
	if env == "" {
		var promotable []string
		for _, name := range p.settings.OrderEnvironments(prov.Spec.Environments) {
			if e, ok := p.settings.Environment(name); ok && e.Promotion != nil {
				promotable = append(promotable, name)
			}
		}
		switch len(promotable) {
		case 0:
			return manifest.Environment{}, &apierr.Error{
				Code: codes.FailedPrecondition, Reason: "NO_PROMOTABLE_ENVIRONMENT",
				Message: fmt.Sprintf("service %q deploys to no environment that takes promotions (%s); the path is %s",
					prov.Service, strings.Join(prov.Spec.Environments, ", "), path),
			}
		case 1:
			env = promotable[0]
		default:
			return manifest.Environment{}, apierr.Invalid(apierr.FieldViolation{Field: "promotion.environment",
				Description: fmt.Sprintf("name the environment to promote into: one of %s", strings.Join(promotable, ", "))})
		}
	}
	target, ok := p.settings.Environment(env)
	if !ok {
		return manifest.Environment{}, apierr.Invalid(apierr.FieldViolation{Field: "promotion.environment",
			Description: fmt.Sprintf("environment %q is not configured: the path is %s", env, path)})
	}
	if !slices.Contains(prov.Spec.Environments, env) {
		return manifest.Environment{}, &apierr.Error{
			Code: codes.FailedPrecondition, Reason: "NOT_DEPLOYED_TO_ENVIRONMENT",
			Message:  fmt.Sprintf("service %q does not deploy to %s", prov.Service, env),
			Metadata: map[string]string{"environment": env},
		}
	}
	if target.Promotion == nil {
		return manifest.Environment{}, &apierr.Error{
			Code: codes.FailedPrecondition, Reason: "ENVIRONMENT_TAKES_NO_PROMOTIONS",
			Message:  fmt.Sprintf("%s takes no promotions: it deploys %s as it changes; the path is %s", env, target.Revision, path),
			Metadata: map[string]string{"environment": env},
		}
	}
	return target, nil
}

// requireRunning refuses a promotion into target of a revision the
// environment before does not run, unless an admin forces it; forced says
// one did.
func (p *Provisioner) requireRunning(ctx context.Context, fromApp *unstructured.Unstructured, target manifest.Environment, revision string, force bool) (forced bool, err error) {
	from := target.Promotion.From
	running := runningRevision(fromApp)
	if running == revision {
		return false, nil
	}
	if force {
		if principal, _ := auth.FromContext(ctx); principal.Has(auth.RoleAdmin) {
			return true, nil
		}
		return false, apierr.PermissionDenied("FORCE_NEEDS_ADMIN", "forcing a promotion past the environment before needs the admin role")
	}
	runs := "runs nothing yet"
	if running != "" {
		runs = "runs " + running
	}
	return false, &apierr.Error{
		Code: codes.FailedPrecondition, Reason: "PROMOTION_SKIPS_ENVIRONMENT",
		Message: fmt.Sprintf("%s is not running in %s (it %s): a promotion into %s takes what %s runs; the path is %s",
			revision, from, runs, target.Name, from, strings.Join(p.settings.EnvironmentNames(), " -> ")),
		Metadata: map[string]string{"environment": target.Name, "from": from, "running": running},
	}
}

// applicationsByEnvironment are a service's cached Applications, by the
// environment each deploys.
func applicationsByEnvironment(cluster Cluster, service string) map[string]*unstructured.Unstructured {
	apps, _ := cluster.Objects(service)
	byEnv := make(map[string]*unstructured.Unstructured, len(apps))
	for _, app := range apps {
		byEnv[app.GetLabels()[manifest.LabelEnvironment]] = app
	}
	return byEnv
}

// runningRevision is the revision Argo CD reports app synced to, "" for
// none or no app.
func runningRevision(app *unstructured.Unstructured) string {
	if app == nil {
		return ""
	}
	return stringAt(app, "", "status", "sync", "revision")
}

// ranBefore says env ran revision before: its Application app (nil when
// the cache holds none) has it in its history, or an approved promotion of
// the service put it there, and it is not what env runs now.
func (p *Provisioner) ranBefore(ctx context.Context, prov store.Provisioning, env string, app *unstructured.Unstructured, revision string) (bool, error) {
	if runningRevision(app) == revision {
		return false, nil
	}
	if app != nil {
		for _, d := range manifest.DeploymentsOf(app) {
			if d.Revision == revision && d.Succeeded {
				return true, nil
			}
		}
	}
	promotions, err := p.store.ListPromotions(ctx, prov.Service, 0, rollbackLookback)
	if err != nil {
		return false, err
	}
	for _, pr := range promotions {
		if pr.Environment == env && pr.State == StateApproved && pr.Revision == revision && pr.Revision != prov.Spec.Revision(env) {
			return true, nil
		}
	}
	return false, nil
}

// rollbackLookback is how many of a service's latest promotions a request
// looks through for a revision its environment ran before, beside the
// history Argo CD keeps.
const rollbackLookback = 200

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
	if approve && p.budgetGuard && promotion.State == StatePending {
		if err := requireAdminOverBudget(ctx, prov.Spec.Team, promotion); err != nil {
			return store.Promotion{}, err
		}
	}
	decided, err := p.store.DecidePromotion(ctx, service, id, state, decider, reason, time.Now())
	if errors.Is(err, store.ErrConflict) {
		return store.Promotion{}, &apierr.Error{
			Code: codes.FailedPrecondition, Reason: "PROMOTION_DECIDED",
			Message: fmt.Sprintf("promotion %s is %s already", promotionName(service, id), promotion.State),
		}
	}
	if err != nil {
		return decided, err
	}
	detail := fmt.Sprintf("%s the %s", state, promotionDetail(decided))
	if decided.Evidence != nil {
		detail += "; " + EvidenceSummary(*decided.Evidence)
	}
	audit.Describe(ctx, detail)
	if !approve {
		return decided, nil
	}
	return decided, p.promote(ctx, prov, decided)
}

// promote points the promotion's environment at the approved revision and
// asks Argo CD to sync it. The spec change is stored first, so that the
// reconciler applies it even if this call fails half way.
func (p *Provisioner) promote(ctx context.Context, prov store.Provisioning, promotion store.Promotion) error {
	env := promotion.Environment
	spec := prov.Spec
	spec.Revisions = maps.Clone(spec.Revisions)
	if spec.Revisions == nil {
		spec.Revisions = map[string]string{}
	}
	spec.Revisions[env] = promotion.Revision
	if env == manifest.EnvironmentProduction {
		spec.ProductionRevision = promotion.Revision
	}
	updated, err := p.store.UpdateProvisioningSpec(ctx, prov.Service, spec, prov.Generation)
	if err != nil {
		return fmt.Errorf("promote %s: %w", prov.Service, err)
	}
	app := manifest.Application(p.plan(prov.Service, updated.Spec), env, p.settings)
	if err := p.cluster.Apply(ctx, app); err != nil {
		p.wake()
		return fmt.Errorf("promote %s: %w", prov.Service, err)
	}
	return p.cluster.RequestSync(ctx, app, promotion.Revision, "cairn:"+promotion.Decider)
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
	if len(promotions) == 0 && pageToken == "" {
		// None: of a service Cairn knows, or of none at all.
		if _, err := p.store.GetService(ctx, service); errors.Is(err, store.ErrNotFound) {
			return nil, "", apierr.NotFound("service", service)
		} else if err != nil {
			return nil, "", err
		}
	}
	promotions, next := pagetoken.Page(promotions, size, query, func(pr store.Promotion) string { return fmt.Sprint(pr.ID) })
	return promotions, next, nil
}

// MayDecide returns what says whether the caller may decide a promotion
// of service now, by the rules of Decide: it is pending, and the caller is
// an approver acting for the service's team who did not request it.
func (p *Provisioner) MayDecide(ctx context.Context, service string) (func(store.Promotion) bool, error) {
	principal, _ := auth.FromContext(ctx)
	if !principal.Has(auth.RoleApprover) {
		return func(store.Promotion) bool { return false }, nil
	}
	prov, err := p.provisioningOf(ctx, service)
	if err != nil {
		return nil, err
	}
	forTeam := auth.ActsFor(ctx, prov.Spec.Team)
	decider := auth.Name(ctx)
	return func(pr store.Promotion) bool {
		return forTeam && pr.State == StatePending && !auth.SamePrincipal(decider, pr.Requester)
	}, nil
}

func promotionName(service string, id int64) string {
	return fmt.Sprintf("services/%s/promotions/%d", service, id)
}
