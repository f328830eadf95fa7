package provisioning

import (
	"context"
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

const (
	// resyncInterval is how often every service is applied again, undoing
	// drift no event shows, such as a field Cairn owns edited by hand; a
	// deleted object is applied again at once. An object the cluster holds
	// as Cairn last applied it costs no call (kube.Cluster.Apply), so a
	// resync of 1,000 unchanged services is a store read and 4,000 digests.
	resyncInterval = time.Minute
	// retryInterval is how soon a failed apply is tried again.
	retryInterval = 5 * time.Second
	// pollInterval is how often the leader looks in the store for work
	// another replica recorded.
	pollInterval = 2 * time.Second
	// listPage is how many provisionings one store read takes.
	listPage = 200
)

// Run reconciles until ctx is done: it applies every provisioning whose
// spec changed since it was last applied or an object of which was
// deleted, re-applies everything now and then, removes the objects a spec
// no longer has, and records when a service first became ready. Only the
// leader runs it. Besides being woken by this replica's writes and the
// cluster's events, it looks for pending work every pollInterval: creates
// and changes other replicas recorded.
func (p *Provisioner) Run(ctx context.Context) {
	if p.cluster == nil {
		return
	}
	resync := time.NewTicker(resyncInterval)
	defer resync.Stop()
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	full := true
	for {
		// After a failure the next pass waits for the retry, not the poll.
		var retry <-chan time.Time
		polled := poll.C
		if !p.reconcileAll(ctx, full) {
			retry, polled = time.After(retryInterval), nil
		}
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
			full = false
		case <-retry:
			full = false
		case <-polled:
			full = false
		case <-resync.C:
			full = true
		}
	}
}

// reconcileAll reconciles the provisionings that need it (full: every
// one), and reports whether all went well. Those with nothing pending are
// not read: a pass runs on every change the informers see.
func (p *Provisioner) reconcileAll(ctx context.Context, full bool) bool {
	ok := true
	drifted := p.takeDrifted()
	list := p.store.ListPendingProvisionings
	if full {
		list = p.store.ListProvisionings
	}
	for after := ""; ; {
		page, err := list(ctx, after, listPage)
		if err != nil {
			p.logger.Warn("reconciler: listing provisionings", "error", err)
			for service := range drifted {
				p.drift(service)
			}
			return false
		}
		for _, prov := range page {
			ok = p.reconcile(ctx, prov, full || drifted[prov.Service]) && ok
			delete(drifted, prov.Service)
		}
		if len(page) < listPage {
			break
		}
		after = page[len(page)-1].Service
	}
	for service := range drifted {
		prov, err := p.store.GetProvisioning(ctx, service)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			p.logger.Warn("reconciler: reading provisioning", "service", service, "error", err)
			p.drift(service)
			ok = false
		default:
			ok = p.reconcile(ctx, prov, true) && ok
		}
	}
	return ok
}

// reconcile applies prov if its spec is not applied yet, or always when
// force is set, then looks at its readiness; it reports whether the apply
// went well.
func (p *Provisioner) reconcile(ctx context.Context, prov store.Provisioning, force bool) bool {
	if force || prov.AppliedGeneration < prov.Generation {
		if err := p.apply(ctx, prov); err != nil {
			p.logger.Warn("reconciler: applying", "service", prov.Service, "error", err)
			// Applied again on the retry, not only at the next resync.
			p.drift(prov.Service)
			return false
		}
	}
	if prov.ReadyTime.IsZero() {
		p.observeReady(ctx, prov)
	}
	return true
}

// apply brings the cluster in line with one provisioning's spec.
func (p *Provisioner) apply(ctx context.Context, prov store.Provisioning) error {
	plan := p.plan(prov.Service, prov.Spec)
	desired := manifest.Objects(plan, p.settings)
	if len(desired) > 0 {
		// The claims live in the team's namespace, and the workload too,
		// unless an environment places its own claims elsewhere.
		for _, set := range p.settings.ClaimSets(plan) {
			err := p.cluster.EnsureNamespace(ctx, set.Environment, set.Namespace, plan.Team)
			if apierrors.IsForbidden(err) {
				p.logger.Warn("Cairn may not create namespaces: applying into the namespace in case it exists",
					"namespace", set.Namespace, "error", err)
			} else if err != nil {
				return err
			}
		}
	}
	wanted := map[string]bool{}
	for _, obj := range desired {
		if err := p.cluster.Apply(ctx, obj); err != nil {
			return err
		}
		wanted[p.cluster.ClusterOf(obj)+"/"+kube.ObjectKey(obj)] = true
	}
	apps, claims := p.cluster.Objects(prov.Service)
	for _, obj := range append(apps, claims...) {
		// An object on another cluster than the one it goes to now (its
		// environment moved) is not wanted there.
		if obj.GetLabels()[manifest.LabelManagedBy] != manifest.ManagedBy || wanted[p.cluster.ClusterOf(obj)+"/"+kube.ObjectKey(obj)] {
			continue
		}
		if err := p.cluster.Delete(ctx, obj); err != nil {
			return err
		}
	}
	return p.store.MarkProvisioningApplied(ctx, prov.Service, prov.Generation)
}

// observeReady records the first time every resource of a service is ready,
// with how long each took.
func (p *Provisioner) observeReady(ctx context.Context, prov store.Provisioning) {
	apps, claims := p.cluster.Objects(prov.Service)
	snap := Snapshot{Applications: apps, Claims: claims}
	if phaseOf(prov, snap, statusOf(prov, snap, p.settings), p.settings) != PhaseReady {
		return
	}
	now := time.Now()
	if err := p.store.MarkProvisioningReady(ctx, prov.Service, now); err != nil {
		p.logger.Warn("reconciler: recording readiness", "service", prov.Service, "error", err)
		return
	}
	for _, claim := range claims {
		readyAt := now
		if cond, ok := condition(claim, "Ready"); ok {
			if t, err := time.Parse(time.RFC3339, stringOf(cond["lastTransitionTime"])); err == nil {
				readyAt = t
			}
		}
		p.metrics.provisioned(claim.GetKind(), readyAt.Sub(prov.CreateTime).Seconds())
	}
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}
