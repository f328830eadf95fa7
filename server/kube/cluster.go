package kube

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// ErrNotConfigured means Cairn has no Kubernetes cluster to talk to.
var ErrNotConfigured = errors.New("no Kubernetes cluster is configured: set --kubeconfig (or KUBECONFIG), or run Cairn in a cluster")

// RESTConfig finds the cluster: the kubeconfig file given, else $KUBECONFIG,
// else the in-cluster service account. ErrNotConfigured when there is none.
func RESTConfig(kubeconfig string) (*rest.Config, error) {
	return RESTConfigOf(kubeconfig, "")
}

// RESTConfigOf is RESTConfig at a context of the kubeconfig other than its
// current one, when context is not empty.
func RESTConfigOf(kubeconfig, context string) (*rest.Config, error) {
	if kubeconfig == "" {
		kubeconfig = os.Getenv("KUBECONFIG")
	}
	if kubeconfig != "" {
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig},
			&clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	if context != "" {
		return nil, fmt.Errorf("context %s: no kubeconfig to find it in", context)
	}
	cfg, err := rest.InClusterConfig()
	if errors.Is(err, rest.ErrNotInCluster) {
		return nil, ErrNotConfigured
	}
	return cfg, err
}

// indexByService finds a service's objects in the informer caches.
const indexByService = "service"

// resyncPeriod is how often informers replay their caches to handlers.
const resyncPeriod = 10 * time.Minute

// clientQPS and clientBurst bound the requests a second Cairn makes to the
// API server, and how many may go at once above that rate.
const (
	clientQPS   = 50
	clientBurst = 100
)

// Cluster is Cairn's view of one Kubernetes API server: server-side apply
// for the objects it owns, and informers that keep every Application and
// claim, and the services' Deployments, in memory, so that status and cost
// reads never call the API server.
type Cluster struct {
	name      string
	watch     Watch
	client    dynamic.Interface
	clientset kubernetes.Interface
	settings  manifest.Settings
	kinds     []manifest.Kind
	informer  map[string]cache.SharedIndexInformer // by kind, Deployments among them
	// deployments are the workloads of services, for their cost.
	deployments cache.SharedIndexInformer
	stale       atomic.Bool

	// applied is what Cairn's last apply of each object gave, by kind,
	// namespace and name, so that applying it again unchanged calls nothing.
	appliedMu sync.Mutex
	applied   map[string]appliedObject

	// namespaces are those EnsureNamespace need not ask about again: one
	// per team namespace Cairn applies into.
	namespacesMu sync.Mutex
	namespaces   map[string]bool

	mu              sync.Mutex
	handlers        []func(service string)
	removedHandlers []func(service string)
	manualHandlers  []func(kind string)
}

// Watch says what a Cluster keeps informers of, beside the services'
// Deployments, which it always does: a workload cluster may have neither
// Argo CD nor the platform's claims.
type Watch struct {
	Applications bool
	Claims       bool
}

// NewCluster returns a Cluster for the API server of cfg that watches
// Applications and claims. Run runs its informers.
func NewCluster(cfg *rest.Config, settings manifest.Settings) (*Cluster, error) {
	return NewClusterWatching("default", cfg, settings, Watch{Applications: true, Claims: true})
}

// NewClusterWatching returns a Cluster named name for the API server of
// cfg, with informers of what watch says.
func NewClusterWatching(name string, cfg *rest.Config, settings manifest.Settings, watch Watch) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "cairn"
	// client-go's default client-side limit, 5 requests a second, would let
	// the reconciler apply five objects a second: a thousand provisioned
	// services took over thirteen minutes to apply once, and a create
	// waited behind them. The API server's own fairness (API Priority and
	// Fairness) protects it instead, as it does from controllers.
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	var kinds []manifest.Kind
	for _, kind := range manifest.Kinds(settings) {
		if kind.Claim && watch.Claims || !kind.Claim && watch.Applications {
			kinds = append(kinds, kind)
		}
	}
	c := &Cluster{
		name: name, client: client, settings: settings, kinds: kinds, watch: watch,
		informer: map[string]cache.SharedIndexInformer{}, applied: map[string]appliedObject{},
		namespaces: map[string]bool{},
	}
	factory := dynamicinformer.NewDynamicSharedInformerFactory(client, resyncPeriod)
	for _, kind := range c.kinds {
		inf := factory.ForResource(kind.GroupVersionResource()).Informer()
		if err := inf.SetTransform(trimCached); err != nil {
			return nil, err
		}
		if err := inf.AddIndexers(cache.Indexers{indexByService: serviceOf}); err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
			AddFunc: func(obj any, isInInitialList bool) {
				if kind.Claim && !isInInitialList && !managedByCairn(obj) {
					c.manualClaimAdded(kind.Kind)
				}
				c.changed(obj)
			},
			UpdateFunc: func(_, obj any) { c.changed(obj) },
			DeleteFunc: func(obj any) {
				if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = tombstone.Obj
				}
				if u, ok := obj.(*unstructured.Unstructured); ok {
					c.forgetApplied(objectKey(kind.Kind, u.GetNamespace(), u.GetName()))
				}
				c.changed(obj)
				if managedByCairn(obj) {
					c.removed(obj)
				}
			},
		}); err != nil {
			return nil, err
		}
		c.informer[kind.Kind] = inf
	}
	if c.clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.deployments, err = newDeploymentInformer(c.clientset); err != nil {
		return nil, err
	}
	c.informer["Deployment"] = c.deployments
	c.stale.Store(true) // until Run's informers have listed
	return c, nil
}

// trimCached keeps in the cache only the fields Cairn reads of a claim or
// an Application (cachedFields): the rest, such as the spec Cairn wrote,
// server-side apply's managedFields, and the resource lists Argo CD keeps
// in its status, was most of what the informers held, several kilobytes an
// object.
func trimCached(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	kept := map[string]any{}
	for _, path := range cachedFields {
		if v, found, _ := unstructured.NestedFieldNoCopy(u.Object, path...); found {
			setNoCopy(kept, v, path)
		}
	}
	u.Object = kept
	return u, nil
}

// cachedFields are the paths of a claim or Application that Cairn reads:
// identity, labels and annotations, the informer's resource version, the
// generation Apply compares, Argo CD's sync,
// health, history and last operation, and Crossplane's conditions.
var cachedFields = [][]string{
	{"apiVersion"}, {"kind"},
	{"metadata", "name"}, {"metadata", "namespace"}, {"metadata", "uid"},
	{"metadata", "resourceVersion"}, {"metadata", "generation"},
	{"metadata", "labels"}, {"metadata", "annotations"},
	{"metadata", "creationTimestamp"}, {"metadata", "deletionTimestamp"},
	{"status", "sync", "status"}, {"status", "sync", "revision"},
	{"status", "health", "status"},
	{"status", "history"},
	{"status", "operationState", "phase"},
	{"status", "operationState", "startedAt"},
	{"status", "operationState", "finishedAt"},
	{"status", "operationState", "syncResult", "revision"},
	{"status", "operationState", "operation", "sync", "revision"},
	{"status", "conditions"},
}

// setNoCopy sets v at path in obj, making the maps on the way; unlike
// unstructured.SetNestedField it does not copy v, which the trimmed object
// takes over from the one it replaces.
func setNoCopy(obj map[string]any, v any, path []string) {
	for _, field := range path[:len(path)-1] {
		next, ok := obj[field].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[field] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = v
}

// serviceOf indexes objects by the service they belong to, from the name
// label every object Cairn writes carries. Claims of the platform's kinds
// that someone else made are indexed too: they count as manual
// provisioning.
func serviceOf(obj any) ([]string, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, nil
	}
	if name := u.GetLabels()[manifest.LabelName]; name != "" {
		return []string{name}, nil
	}
	return nil, nil
}

// Run runs the informers until ctx is done, and returns once they have
// stopped. Until their first lists arrive the view is stale.
func (c *Cluster) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, inf := range c.informer {
		wg.Go(func() { inf.Run(ctx.Done()) })
	}
	wg.Go(func() { c.watchFreshness(ctx) })
	wg.Wait()
}

// WaitForSync waits until the informers hold the cluster's objects.
func (c *Cluster) WaitForSync(ctx context.Context) bool {
	synced := make([]cache.InformerSynced, 0, len(c.informer))
	for _, inf := range c.informer {
		synced = append(synced, inf.HasSynced)
	}
	return cache.WaitForCacheSync(ctx.Done(), synced...)
}

// probeInterval is how often the API server is asked whether it answers.
const probeInterval = 2 * time.Second

// watchFreshness keeps the stale mark: set until the informers have
// listed, and while the API server does not answer. A broken watch alone
// does not tell, as client-go keeps retrying it quietly while the server is
// away; one small list every probeInterval does.
func (c *Cluster) watchFreshness(ctx context.Context) {
	for {
		synced := c.synced()
		c.stale.Store(!synced || c.probe(ctx) != nil)
		wait := probeInterval
		if !synced {
			wait = 100 * time.Millisecond // clear the mark soon after the first lists
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (c *Cluster) synced() bool {
	for _, inf := range c.informer {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// probe lists one object of what the cluster watches: Applications, else
// Deployments.
func (c *Cluster) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeInterval)
	defer cancel()
	if !c.watch.Applications {
		_, err := c.clientset.AppsV1().Deployments("").List(ctx, metav1.ListOptions{Limit: 1})
		return err
	}
	_, err := c.client.Resource(manifest.ApplicationKind.GroupVersionResource()).List(ctx, metav1.ListOptions{Limit: 1})
	return err
}

// Name is the cluster's name in Cairn's configuration.
func (c *Cluster) Name() string { return c.name }

// ClusterOf names the cluster of obj: this one.
func (c *Cluster) ClusterOf(*unstructured.Unstructured) string { return c.name }

// StaleCluster reports whether this cluster's view is stale, whatever the
// name: it is the only one.
func (c *Cluster) StaleCluster(string) bool { return c.Stale() }

// caches says obj is the very object this cluster's informer cache holds.
func (c *Cluster) caches(obj *unstructured.Unstructured) bool {
	inf, ok := c.informer[obj.GetKind()]
	if !ok {
		return false
	}
	key := obj.GetName()
	if ns := obj.GetNamespace(); ns != "" {
		key = ns + "/" + key
	}
	item, found, _ := inf.GetStore().GetByKey(key)
	return found && item == any(obj)
}

// Stale reports whether a watch broke since the view was last known good.
func (c *Cluster) Stale() bool { return c.stale.Load() }

// OnChange registers fn to be called with the service of every object
// that changes.
func (c *Cluster) OnChange(fn func(service string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handlers = append(c.handlers, fn)
}

// OnRemoved registers fn to be called with the service of every object
// Cairn manages that is deleted from the cluster, whoever deleted it.
func (c *Cluster) OnRemoved(fn func(service string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removedHandlers = append(c.removedHandlers, fn)
}

// OnManualClaim registers fn to be called with the kind of every claim of
// the platform's kinds that appears on the cluster without Cairn (not those
// already there when Cairn starts).
func (c *Cluster) OnManualClaim(fn func(kind string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.manualHandlers = append(c.manualHandlers, fn)
}

func (c *Cluster) manualClaimAdded(kind string) {
	c.mu.Lock()
	handlers := c.manualHandlers
	c.mu.Unlock()
	for _, fn := range handlers {
		fn(kind)
	}
}

func managedByCairn(obj any) bool {
	u, ok := obj.(*unstructured.Unstructured)
	return ok && u.GetLabels()[manifest.LabelManagedBy] == manifest.ManagedBy
}

func (c *Cluster) changed(obj any) {
	c.callHandlers(obj, func() []func(string) { return c.handlers })
}

func (c *Cluster) removed(obj any) {
	c.callHandlers(obj, func() []func(string) { return c.removedHandlers })
}

// callHandlers calls the handlers list returns, read under c.mu, with the
// service of obj, if it names one.
func (c *Cluster) callHandlers(obj any, list func() []func(string)) {
	names, _ := serviceOf(obj)
	if len(names) == 0 {
		return
	}
	c.mu.Lock()
	handlers := list()
	c.mu.Unlock()
	for _, fn := range handlers {
		fn(names[0])
	}
}

// Objects returns the cached Applications and claims of a service.
func (c *Cluster) Objects(service string) (applications, claims []*unstructured.Unstructured) {
	for _, kind := range c.kinds {
		items, _ := c.informer[kind.Kind].GetIndexer().ByIndex(indexByService, service)
		for _, item := range items {
			u := item.(*unstructured.Unstructured)
			if kind.Claim {
				claims = append(claims, u)
			} else {
				applications = append(applications, u)
			}
		}
	}
	return applications, claims
}

// Apply writes obj by server-side apply as field manager cairn, taking the
// fields it sets from any other manager: re-applying the same object
// converges instead of duplicating. It calls nothing when the cluster holds
// obj as Cairn last applied it (see holds).
func (c *Cluster) Apply(ctx context.Context, obj *unstructured.Unstructured) error {
	gvr, err := c.resourceOf(obj)
	if err != nil {
		return err
	}
	key := ObjectKey(obj)
	digest, err := digestOf(obj)
	if err != nil {
		return err
	}
	if c.holds(key, digest, obj) {
		return nil
	}
	applied, err := c.client.Resource(gvr).Namespace(obj.GetNamespace()).
		Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: manifest.FieldManager, Force: true})
	if err != nil {
		if apierrors.IsNotFound(err) && obj.GetNamespace() != "" {
			c.knowNamespace(obj.GetNamespace(), false) // deleted since: make it again
		}
		return fmt.Errorf("apply %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	c.appliedMu.Lock()
	c.applied[key] = appliedObject{generation: applied.GetGeneration(), digest: digest}
	c.appliedMu.Unlock()
	return nil
}

// ObjectKey names an object by kind, namespace and name.
func ObjectKey(obj *unstructured.Unstructured) string {
	return objectKey(obj.GetKind(), obj.GetNamespace(), obj.GetName())
}

func objectKey(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// forgetApplied forgets what Apply recorded of an object that is gone from
// the cluster, whoever deleted it, so that the record holds no more than
// the objects there are. A delete seen late, after the object was applied
// again, costs no more than one apply more.
func (c *Cluster) forgetApplied(key string) {
	c.appliedMu.Lock()
	delete(c.applied, key)
	c.appliedMu.Unlock()
}

// appliedObject is what one apply of an object gave: the generation the API
// server answered with, and a digest of what was applied.
type appliedObject struct {
	generation int64
	digest     [sha256.Size]byte
}

// holds reports whether the cluster, as the informer cache shows it, holds
// obj as Cairn last applied it: the same obj was applied, the cached object
// still has the generation that apply gave, which moves with any change
// outside metadata and status, and it still has obj's labels and
// annotations. A resync then applies only what changed or was changed by
// hand, and after a restart, everything once.
func (c *Cluster) holds(key string, digest [sha256.Size]byte, obj *unstructured.Unstructured) bool {
	c.appliedMu.Lock()
	last, ok := c.applied[key]
	c.appliedMu.Unlock()
	if !ok || last.digest != digest {
		return false
	}
	item, found, _ := c.informer[obj.GetKind()].GetIndexer().GetByKey(obj.GetNamespace() + "/" + obj.GetName())
	if !found {
		return false
	}
	cached := item.(*unstructured.Unstructured)
	return cached.GetGeneration() == last.generation &&
		containsAll(cached.GetLabels(), obj.GetLabels()) &&
		containsAll(cached.GetAnnotations(), obj.GetAnnotations())
}

func containsAll(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// digestOf is a digest of obj's JSON, whose object keys encoding/json sorts.
func digestOf(obj *unstructured.Unstructured) ([sha256.Size]byte, error) {
	b, err := json.Marshal(obj.Object)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("apply %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return sha256.Sum256(b), nil
}

// RequestSync asks Argo CD to sync an Application to revision, as `argocd
// app sync` does: by setting its operation field. It is a merge patch, not
// an apply, so that the reconciler's later applies never write it again.
func (c *Cluster) RequestSync(ctx context.Context, app *unstructured.Unstructured, revision, initiatedBy string) error {
	namespace, name := app.GetNamespace(), app.GetName()
	patch := fmt.Appendf(nil, `{"operation":{"initiatedBy":{"username":%q},"sync":{"revision":%q}}}`, initiatedBy, revision)
	_, err := c.client.Resource(manifest.ApplicationKind.GroupVersionResource()).Namespace(namespace).
		Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: manifest.FieldManager + "-sync"})
	if err != nil {
		return fmt.Errorf("sync %s/%s: %w", namespace, name, err)
	}
	return nil
}

// Delete removes an object Cairn applied; one already gone is not an error.
func (c *Cluster) Delete(ctx context.Context, obj *unstructured.Unstructured) error {
	gvr, err := c.resourceOf(obj)
	if err != nil {
		return err
	}
	err = c.client.Resource(gvr).Namespace(obj.GetNamespace()).Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	c.forgetApplied(ObjectKey(obj))
	return nil
}

func (c *Cluster) resourceOf(obj *unstructured.Unstructured) (schema.GroupVersionResource, error) {
	for _, kind := range c.kinds {
		if kind.GroupVersionKind == obj.GroupVersionKind() {
			return kind.GroupVersionResource(), nil
		}
	}
	return schema.GroupVersionResource{}, fmt.Errorf("kubernetes: Cairn does not manage %s", obj.GroupVersionKind())
}

// Applications returns every cached Application that names its service
// with the name label.
func (c *Cluster) Applications() []*unstructured.Unstructured {
	inf, ok := c.informer[manifest.KindApplication]
	if !ok {
		return nil
	}
	var apps []*unstructured.Unstructured
	for _, item := range inf.GetStore().List() {
		if u := item.(*unstructured.Unstructured); u.GetLabels()[manifest.LabelName] != "" {
			apps = append(apps, u)
		}
	}
	return apps
}
