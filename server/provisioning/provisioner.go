// Package provisioning gives services their infrastructure: it records a
// create request and its catalog entry in one transaction, and a reconciler
// applies the service's Crossplane claims and Argo CD Applications to
// Kubernetes with server-side apply, so that a retry or a restart converges
// on the same objects. Status comes from informers, never from a live call
// per request. Production promotion waits for an approver of the owning
// team who is not the requester.
package provisioning

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/catalog"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// Store is what the provisioner reads and writes of the store: its
// provisionings and promotions, and of the catalog whether a service is
// there and the release of a retired name a create takes over.
type Store interface {
	store.ProvisioningStore
	GetService(ctx context.Context, name string) (*store.Service, error)
	catalog.RetiredNames
}

// Cluster is what the provisioner applies to, deletes from and reads of
// Kubernetes: kube.Cluster, whose informers call the handlers registered
// with OnChange, OnRemoved and OnManualClaim.
type Cluster interface {
	// EnsureNamespace makes a namespace Cairn applies the claims of an
	// environment into ("" for the shared claims) when it is missing;
	// Forbidden means Cairn may not, and the namespace may exist.
	EnsureNamespace(ctx context.Context, environment, namespace, team string) error
	Apply(ctx context.Context, obj *unstructured.Unstructured) error
	Delete(ctx context.Context, obj *unstructured.Unstructured) error
	RequestSync(ctx context.Context, app *unstructured.Unstructured, revision, initiatedBy string) error
	Objects(service string) (applications, claims []*unstructured.Unstructured)
	// ClusterOf names the cluster obj lives on, or would be applied to.
	ClusterOf(obj *unstructured.Unstructured) string
	// Stale says the view of some cluster is stale; StaleCluster, of the
	// one named.
	Stale() bool
	StaleCluster(name string) bool
	OnChange(fn func(service string))
	OnRemoved(fn func(service string))
	OnManualClaim(fn func(kind string))
}

// Provisioner holds provisioning's rules over the store and the cluster.
type Provisioner struct {
	store    Store
	cluster  Cluster // nil when no cluster is configured
	settings manifest.Settings
	teams    entityref.Teams
	metrics  *Metrics
	logger   *slog.Logger
	// evidence computes what a promotion's approver is shown; nil computes
	// none. budgetGuard makes approving a promotion whose evidence
	// projects its team over budget need an admin.
	evidence    Evidence
	budgetGuard bool

	// kick wakes the reconciler when a provisioning changes.
	kick chan struct{}

	mu       sync.Mutex
	watchers map[string]map[chan struct{}]struct{} // by service
	// drifted are the services an object of which was deleted from the
	// cluster since the reconciler last looked: it applies them again
	// without waiting for the next resync.
	drifted map[string]bool
}

// New returns a Provisioner. cluster is nil when Cairn has no cluster:
// provisioning calls then answer FAILED_PRECONDITION, and the rest of Cairn
// works on. A create's owner must make one of teams.
func New(st Store, cluster Cluster, settings manifest.Settings, teams entityref.Teams, metrics *Metrics, logger *slog.Logger) *Provisioner {
	p := &Provisioner{
		store: st, cluster: cluster, settings: settings, teams: teams, metrics: metrics, logger: logger,
		kick:     make(chan struct{}, 1),
		watchers: map[string]map[chan struct{}]struct{}{},
		drifted:  map[string]bool{},
	}
	if cluster != nil {
		cluster.OnChange(p.notify)
		cluster.OnRemoved(p.markDrifted)
		cluster.OnManualClaim(metrics.manualClaim)
	}
	return p
}

func (p *Provisioner) requireCluster() error {
	if p.cluster != nil {
		return nil
	}
	return &apierr.Error{
		Code:    codes.FailedPrecondition,
		Reason:  "NO_CLUSTER",
		Message: "provisioning needs a Kubernetes cluster, and none is configured: start Cairn with --kubeconfig (or KUBECONFIG), or run it in a cluster",
	}
}

// Request is a create request in domain terms.
type Request struct {
	Name, Description, Owner, Template    string
	Database, DatabaseSize, RepositoryURL string
	Bucket                                bool
	Environments                          []string
	ReplicaCount                          int32
	RequestID                             string
	ValidateOnly                          bool
}

// Created is what a create returns.
type Created struct {
	Provisioning store.Provisioning
	Objects      []*unstructured.Unstructured
}

// Create records the intent to provision a service and its catalog entry,
// and wakes the reconciler. With ValidateOnly it returns the objects it
// would apply and changes nothing. A request_id seen before returns what
// that request recorded.
func (p *Provisioner) Create(ctx context.Context, r Request) (Created, error) {
	if err := p.requireCluster(); err != nil {
		return Created{}, err
	}
	spec, err := SpecOf(r, p.teams, p.settings)
	if err != nil {
		return Created{}, err
	}
	if err := auth.RequireTeam(ctx, spec.Team, "change services of"); err != nil {
		return Created{}, err
	}
	objects := manifest.Objects(p.plan(r.Name, spec), p.settings)
	if r.ValidateOnly {
		return Created{Provisioning: store.Provisioning{Service: r.Name, Spec: spec}, Objects: objects}, nil
	}
	// A request id is the requester's own: another's is another request.
	intent := store.Provisioning{Service: r.Name, RequestID: r.RequestID, Requester: auth.Name(ctx), Spec: spec}
	stored, created, err := p.store.CreateProvisioning(ctx, intent, catalogEntry(r.Name, spec))
	var held *store.NameHeldError
	if errors.As(err, &held) {
		if err := catalog.TakeRetiredName(ctx, p.store, held, spec.Team); err != nil {
			p.metrics.serviceCreated(spec, "conflict")
			return Created{}, err
		}
		stored, created, err = p.store.CreateProvisioning(ctx, intent, catalogEntry(r.Name, spec))
	}
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		p.metrics.serviceCreated(spec, "conflict")
		return Created{}, &apierr.Error{
			Code: codes.AlreadyExists, Reason: "SERVICE_ALREADY_PROVISIONED",
			Message:  fmt.Sprintf("service %q is provisioned already; change its resources instead", r.Name),
			Metadata: map[string]string{"service": r.Name},
		}
	case err != nil:
		return Created{}, err
	}
	if created {
		p.metrics.serviceCreated(spec, "accepted")
		p.wake()
	} else {
		objects = manifest.Objects(p.plan(r.Name, stored.Spec), p.settings)
	}
	return Created{Provisioning: stored, Objects: objects}, nil
}

// SpecOf checks a create request, whose owner must make one of teams and
// whose environments must be on the promotion path of settings, and turns
// it into what is stored; no environments means the first of the path.
// Cost estimates check a planned create with it too, so that both refuse
// alike.
func SpecOf(r Request, teams entityref.Teams, settings manifest.Settings) (store.ProvisioningSpec, error) {
	team, err := teams.Owner(r.Owner)
	if err != nil {
		return store.ProvisioningSpec{}, apierr.Invalid(apierr.FieldViolation{Field: "owner", Description: err.Error()})
	}
	if err := checkRepositoryURL(r.RepositoryURL); err != nil {
		return store.ProvisioningSpec{}, apierr.Invalid(apierr.FieldViolation{Field: "repository_url", Description: err.Error()})
	}
	spec := store.ProvisioningSpec{
		Owner: r.Owner, Team: team, Description: r.Description, Template: r.Template,
		RepositoryURL: r.RepositoryURL, Bucket: r.Bucket, ReplicaCount: r.ReplicaCount,
		Environments: r.Environments,
	}
	if r.Database != "" && r.Database != "none" {
		spec.Database = r.Database
		spec.DatabaseSize = cmp.Or(r.DatabaseSize, manifest.DefaultDatabaseSize)
	}
	if len(spec.Environments) == 0 {
		spec.Environments = settings.EnvironmentNames()[:1]
	}
	if err := settings.CheckEnvironments(spec.Environments); err != nil {
		return store.ProvisioningSpec{}, apierr.Invalid(apierr.FieldViolation{Field: "environments", Description: err.Error()})
	}
	plan := manifest.Plan{Service: r.Name, Team: team, Namespace: team, RepositoryURL: r.RepositoryURL,
		Database: spec.Database, DatabaseSize: spec.DatabaseSize, Bucket: spec.Bucket,
		Environments: spec.Environments, ReplicaCount: spec.ReplicaCount}
	if err := settings.CheckPlan(plan); err != nil {
		return store.ProvisioningSpec{}, apierr.Invalid(apierr.FieldViolation{Field: "request", Description: err.Error()})
	}
	return spec, nil
}

// plan is what the reconciler applies for a service's spec.
func (p *Provisioner) plan(service string, spec store.ProvisioningSpec) manifest.Plan {
	revisions := map[string]string{}
	for _, env := range spec.Environments {
		if r := spec.Revision(env); r != "" {
			revisions[env] = r
		}
	}
	return manifest.Plan{
		Service: service, Team: spec.Team, Namespace: spec.Team,
		Template: spec.Template, RepositoryURL: spec.RepositoryURL,
		Database: spec.Database, DatabaseSize: spec.DatabaseSize, DatabaseVersion: spec.DatabaseVersion,
		Bucket: spec.Bucket, Environments: spec.Environments, ReplicaCount: spec.ReplicaCount,
		Revisions: revisions,
	}
}

// catalogEntry is the catalog's view of a service Cairn creates: made by
// Cairn, so on the golden path.
func catalogEntry(name string, spec store.ProvisioningSpec) *store.Service {
	return &store.Service{
		Name: name, Description: spec.Description, Type: "service", Lifecycle: "experimental",
		Owner: spec.Owner, Team: spec.Team, GoldenPath: true, SourceTemplate: spec.Template,
		Annotations: map[string]string{"argocd/app-name": name},
	}
}

// provisioningOf returns a service's provisioning, or NOT_FOUND: reason
// SERVICE_NOT_FOUND for a service the catalog does not hold, so that a
// portal can tell an unknown entity from one with nothing provisioned.
func (p *Provisioner) provisioningOf(ctx context.Context, service string) (store.Provisioning, error) {
	prov, err := p.store.GetProvisioning(ctx, service)
	if errors.Is(err, store.ErrNotFound) {
		_, err := p.store.GetService(ctx, service)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return prov, apierr.NotFound("service", service)
		case err != nil:
			// Not knowing whether the service exists, say so: the store
			// failing is no answer that nothing is provisioned.
			return prov, err
		}
		return prov, &apierr.Error{
			Code: codes.NotFound, Reason: "PROVISIONING_NOT_FOUND",
			Message:  fmt.Sprintf("service %q has no infrastructure provisioned by Cairn", service),
			Metadata: map[string]string{"service": service},
		}
	}
	return prov, err
}

// Status is a service's status from the informer caches.
func (p *Provisioner) Status(ctx context.Context, service string) (store.Provisioning, Snapshot, error) {
	if err := p.requireCluster(); err != nil {
		return store.Provisioning{}, Snapshot{}, err
	}
	prov, err := p.provisioningOf(ctx, service)
	if err != nil {
		return prov, Snapshot{}, err
	}
	apps, claims := p.cluster.Objects(service)
	snap := Snapshot{Applications: apps, Claims: claims, Stale: p.cluster.Stale(), ObserveTime: time.Now(),
		Clusters: map[*unstructured.Unstructured]string{}, StaleClusters: map[string]bool{}}
	for _, obj := range append(slices.Clip(apps), claims...) {
		name := p.cluster.ClusterOf(obj)
		snap.Clusters[obj] = name
		snap.StaleClusters[name] = p.cluster.StaleCluster(name)
	}
	return prov, snap, nil
}

// Watch calls send with the service's status now and after every change,
// until ctx is done or send fails.
func (p *Provisioner) Watch(ctx context.Context, service string, send func(store.Provisioning, Snapshot) error) error {
	changed := make(chan struct{}, 1)
	p.mu.Lock()
	if p.watchers[service] == nil {
		p.watchers[service] = map[chan struct{}]struct{}{}
	}
	p.watchers[service][changed] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.watchers[service], changed)
		if len(p.watchers[service]) == 0 {
			delete(p.watchers, service)
		}
		p.mu.Unlock()
	}()
	for {
		prov, snap, err := p.Status(ctx, service)
		if err != nil {
			return err
		}
		if err := send(prov, snap); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// notify tells the watchers of a service that its objects changed, and
// lets the reconciler look at its readiness.
func (p *Provisioner) notify(service string) {
	p.mu.Lock()
	for ch := range p.watchers[service] {
		select {
		case ch <- struct{}{}:
		default: // a change is already pending for this watcher
		}
	}
	p.mu.Unlock()
	p.wake()
}

// markDrifted has the reconciler apply service again, now.
func (p *Provisioner) markDrifted(service string) {
	p.drift(service)
	p.wake()
}

// drift has the reconciler apply service again on its next pass.
func (p *Provisioner) drift(service string) {
	p.mu.Lock()
	p.drifted[service] = true
	p.mu.Unlock()
}

// takeDrifted returns the services marked drifted, and forgets them.
func (p *Provisioner) takeDrifted() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	drifted := p.drifted
	p.drifted = map[string]bool{}
	return drifted
}

func (p *Provisioner) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// resourceKinds are the resources a service can have besides deployments.
const (
	resourceDatabase = "database"
	resourceBucket   = "bucket"
)

// AddResource adds a database or a bucket to a provisioned service.
func (p *Provisioner) AddResource(ctx context.Context, service, kind, engine, size, version string) (store.ProvisioningSpec, error) {
	return p.changeSpec(ctx, service, func(spec *store.ProvisioningSpec) error {
		switch kind {
		case resourceDatabase:
			if spec.Database != "" {
				return alreadyHas(service, kind)
			}
			if !slices.Contains(manifest.DatabaseEngines, engine) {
				return apierr.Invalid(apierr.FieldViolation{Field: "resource.engine", Description: fmt.Sprintf("must be one of %v", manifest.DatabaseEngines)})
			}
			spec.Database, spec.DatabaseSize, spec.DatabaseVersion = engine, cmp.Or(size, manifest.DefaultDatabaseSize), version
		case resourceBucket:
			if spec.Bucket {
				return alreadyHas(service, kind)
			}
			spec.Bucket = true
		default:
			return apierr.Invalid(apierr.FieldViolation{Field: "resource.kind", Description: "must be database or bucket"})
		}
		return nil
	})
}

// RemoveResource removes a service's database or bucket. A database of a
// service deployed to a production-like environment of the path goes only
// with force, by an admin.
func (p *Provisioner) RemoveResource(ctx context.Context, service, kind string, force bool) error {
	_, err := p.changeSpec(ctx, service, func(spec *store.ProvisioningSpec) error {
		switch {
		case kind == resourceDatabase && spec.Database != "":
			if serves := p.productionOf(spec.Environments); len(serves) > 0 {
				principal, _ := auth.FromContext(ctx)
				if !force || !principal.Has(auth.RoleAdmin) {
					return apierr.PermissionDenied("PRODUCTION_DATABASE", fmt.Sprintf(
						"%s's database serves %s: removing it needs force=true and the admin role", service, strings.Join(serves, ", ")))
				}
			}
			spec.Database, spec.DatabaseSize, spec.DatabaseVersion = "", "", ""
		case kind == resourceBucket && spec.Bucket:
			spec.Bucket = false
		default:
			return apierr.NotFound("resource", "services/"+service+"/resources/"+kind)
		}
		return nil
	})
	return err
}

// productionOf are those of environments the path marks production-like,
// in path order.
func (p *Provisioner) productionOf(environments []string) []string {
	return slices.DeleteFunc(p.settings.ProductionEnvironments(), func(env string) bool {
		return !slices.Contains(environments, env)
	})
}

func alreadyHas(service, kind string) error {
	return &apierr.Error{
		Code: codes.AlreadyExists, Reason: "RESOURCE_EXISTS",
		Message: fmt.Sprintf("service %q has a %s already", service, kind),
	}
}

// changeSpec applies change to a service's spec as its team, and wakes the
// reconciler.
func (p *Provisioner) changeSpec(ctx context.Context, service string, change func(*store.ProvisioningSpec) error) (store.ProvisioningSpec, error) {
	if err := p.requireCluster(); err != nil {
		return store.ProvisioningSpec{}, err
	}
	prov, err := p.provisioningOf(ctx, service)
	if err != nil {
		return store.ProvisioningSpec{}, err
	}
	if err := auth.RequireTeam(ctx, prov.Spec.Team, "change services of"); err != nil {
		return store.ProvisioningSpec{}, err
	}
	spec := prov.Spec
	spec.Environments = slices.Clone(spec.Environments)
	spec.Revisions = maps.Clone(spec.Revisions)
	if err := change(&spec); err != nil {
		return store.ProvisioningSpec{}, err
	}
	updated, err := p.store.UpdateProvisioningSpec(ctx, service, spec, prov.Generation)
	if errors.Is(err, store.ErrConflict) {
		return store.ProvisioningSpec{}, apierr.EtagMismatch("service", service)
	}
	if err != nil {
		return store.ProvisioningSpec{}, err
	}
	p.wake()
	return updated.Spec, nil
}
