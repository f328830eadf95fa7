package kube

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// Clusters are the API servers Cairn provisions on, by name, and the rule
// of where each object goes: an environment's Application to the
// environment's cluster (Environment.Cluster, else the first), an
// environment's own claims to its Claims.Cluster, other claims and the
// team namespaces they need to the claims cluster. Reads merge every
// cluster's informers; a cluster that does not answer makes stale only
// what lives there.
type Clusters struct {
	settings manifest.Settings
	all      []*Cluster // in configuration order
	byName   map[string]*Cluster
	claims   *Cluster
}

// NewClusters returns the clusters, the first the default, with claims
// going to the one named claims (empty: the first). Every environment of
// settings must name one of them, or none.
func NewClusters(settings manifest.Settings, claims string, clusters ...*Cluster) (*Clusters, error) {
	if len(clusters) == 0 {
		return nil, fmt.Errorf("kubernetes: no cluster")
	}
	cs := &Clusters{settings: settings, all: clusters, byName: map[string]*Cluster{}}
	for _, c := range clusters {
		if cs.byName[c.name] != nil {
			return nil, fmt.Errorf("kubernetes: cluster %q is named twice", c.name)
		}
		cs.byName[c.name] = c
	}
	var err error
	if cs.claims, err = cs.named(claims, "claims"); err != nil {
		return nil, err
	}
	for _, name := range settings.EnvironmentNames() {
		env, _ := settings.Environment(name)
		if _, err := cs.named(env.Cluster, "environment "+name); err != nil {
			return nil, err
		}
		if env.Claims != nil && env.Claims.Cluster != "" {
			if _, err := cs.named(env.Claims.Cluster, "the claims of environment "+name); err != nil {
				return nil, err
			}
		}
	}
	return cs, nil
}

// ClaimClusters are the names of the clusters that hold claims: the
// claims cluster, named claims, and each an environment's own claims go
// to.
func ClaimClusters(settings manifest.Settings, claims string) []string {
	names := []string{claims}
	for _, name := range settings.EnvironmentNames() {
		env, _ := settings.Environment(name)
		if env.Claims == nil {
			continue
		}
		if c := cmp.Or(env.Claims.Cluster, claims); !slices.Contains(names, c) {
			names = append(names, c)
		}
	}
	return names
}

// named is the cluster of that name, the first for "".
func (cs *Clusters) named(name, of string) (*Cluster, error) {
	if name == "" {
		return cs.all[0], nil
	}
	if c := cs.byName[name]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("kubernetes: %s names cluster %q, which is not configured (have %s)", of, name, strings.Join(cs.Names(), ", "))
}

// Names are the clusters' names, in configuration order.
func (cs *Clusters) Names() []string {
	names := make([]string, len(cs.all))
	for i, c := range cs.all {
		names[i] = c.name
	}
	return names
}

// placed is the cluster obj is applied to.
func (cs *Clusters) placed(obj *unstructured.Unstructured) *Cluster {
	env, _ := cs.settings.Environment(obj.GetLabels()[manifest.LabelEnvironment])
	if obj.GetKind() != manifest.KindApplication {
		return cs.claimsOf(env)
	}
	if c := cs.byName[env.Cluster]; c != nil {
		return c
	}
	return cs.all[0] // no cluster named, or an environment off the path
}

// claimsOf is the cluster of env's claims: its own claims' cluster, else
// the claims cluster (for the shared claims, env is the zero Environment).
func (cs *Clusters) claimsOf(env manifest.Environment) *Cluster {
	if env.Claims != nil {
		if c := cs.byName[env.Claims.Cluster]; c != nil {
			return c
		}
	}
	return cs.claims
}

// holder is the cluster whose informer cache holds obj, as Objects gave
// it, else the one obj is applied to.
func (cs *Clusters) holder(obj *unstructured.Unstructured) *Cluster {
	for _, c := range cs.all {
		if c.caches(obj) {
			return c
		}
	}
	return cs.placed(obj)
}

// ClusterOf names the cluster obj lives on: the one that holds it, or the
// one it would be applied to.
func (cs *Clusters) ClusterOf(obj *unstructured.Unstructured) string { return cs.holder(obj).name }

// EnsureNamespace makes a team's namespace where the claims of the named
// environment go: the environment's own claims cluster, else (and for "")
// the claims cluster.
func (cs *Clusters) EnsureNamespace(ctx context.Context, environment, namespace, team string) error {
	env, _ := cs.settings.Environment(environment)
	return cs.claimsOf(env).EnsureNamespace(ctx, namespace, team)
}

// Apply applies obj on the cluster it goes to.
func (cs *Clusters) Apply(ctx context.Context, obj *unstructured.Unstructured) error {
	return cs.placed(obj).Apply(ctx, obj)
}

// Delete deletes obj from the cluster that holds it.
func (cs *Clusters) Delete(ctx context.Context, obj *unstructured.Unstructured) error {
	return cs.holder(obj).Delete(ctx, obj)
}

// RequestSync asks for a sync of app on its environment's cluster.
func (cs *Clusters) RequestSync(ctx context.Context, app *unstructured.Unstructured, revision, initiatedBy string) error {
	return cs.placed(app).RequestSync(ctx, app, revision, initiatedBy)
}

// Objects merges a service's cached Applications and claims of every
// cluster.
func (cs *Clusters) Objects(service string) (applications, claims []*unstructured.Unstructured) {
	for _, c := range cs.all {
		apps, cl := c.Objects(service)
		applications, claims = append(applications, apps...), append(claims, cl...)
	}
	return applications, claims
}

// Applications are every cluster's cached Applications of services.
func (cs *Clusters) Applications() []*unstructured.Unstructured {
	var apps []*unstructured.Unstructured
	for _, c := range cs.all {
		apps = append(apps, c.Applications()...)
	}
	return apps
}

// Claims are the claims of every cluster that watches them.
func (cs *Clusters) Claims() []Claim {
	var claims []Claim
	for _, c := range cs.all {
		claims = append(claims, c.Claims()...)
	}
	return claims
}

// Workloads are a service's Deployments on every cluster.
func (cs *Clusters) Workloads(service string) []Workload {
	var workloads []Workload
	for _, c := range cs.all {
		workloads = append(workloads, c.Workloads(service)...)
	}
	return workloads
}

// Stale reports whether any cluster's view is stale.
func (cs *Clusters) Stale() bool {
	return slices.ContainsFunc(cs.all, (*Cluster).Stale)
}

// StaleCluster reports whether the named cluster's view is stale.
func (cs *Clusters) StaleCluster(name string) bool {
	c := cs.byName[name]
	return c == nil || c.Stale()
}

// OnChange, OnRemoved and OnManualClaim register fn with every cluster.
func (cs *Clusters) OnChange(fn func(service string)) {
	for _, c := range cs.all {
		c.OnChange(fn)
	}
}

func (cs *Clusters) OnRemoved(fn func(service string)) {
	for _, c := range cs.all {
		c.OnRemoved(fn)
	}
}

func (cs *Clusters) OnManualClaim(fn func(kind string)) {
	for _, c := range cs.all {
		c.OnManualClaim(fn)
	}
}

// Run runs every cluster's informers until ctx is done, and returns once
// they have all stopped.
func (cs *Clusters) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range cs.all {
		wg.Go(func() { c.Run(ctx) })
	}
	wg.Wait()
}

// WaitForSync waits until every cluster's informers hold its objects.
func (cs *Clusters) WaitForSync(ctx context.Context) bool {
	for _, c := range cs.all {
		if !c.WaitForSync(ctx) {
			return false
		}
	}
	return true
}
