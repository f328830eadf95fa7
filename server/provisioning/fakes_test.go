package provisioning

// In-memory stand-ins for the reconciler's store and cluster. The real
// ones run in this repository (store/sqlite, envtest in
// internal/testenv/kubetest) and the end-to-end tests use them; these are
// for the unit tests of reconciler_test.go, which drive one pass at a time
// and must see every call a pass makes and make a chosen call fail, which
// neither a real store nor a real API server lets a test do. memStore
// follows what store.ProvisioningStore documents, and
// storetest's ListPendingProvisioningsLeavesOutTheAppliedAndReady holds the
// real engines to the same rule; fakeCluster indexes objects by service as
// kube.Cluster's informers do and calls the OnRemoved handlers as they do
// when a Cairn object goes.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// listCall is one read of a page of provisionings.
type listCall struct {
	Pending bool // ListPendingProvisionings, else ListProvisionings
	After   string
	Limit   int
}

// memStore holds provisionings in memory and records the reconciler's
// reads and writes of them. Each fail hook, when set, decides whether the
// call fails.
type memStore struct {
	// Store answers the rest of the interface: left nil, so that a pass
	// calling anything but the provisioning reads and marks panics.
	Store

	failList        func(after string) error
	failGet         func(service string) error
	failMarkApplied func(service string) error

	mu            sync.Mutex
	provisionings map[string]store.Provisioning
	lists         []listCall
	gets          []string
	markedApplied []string // service@generation
	markedReady   []string
}

func newMemStore() *memStore {
	return &memStore{provisionings: map[string]store.Provisioning{}}
}

// put records p as it is.
func (s *memStore) put(p store.Provisioning) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.provisionings[p.Service] = p
}

// remove forgets a service's provisioning.
func (s *memStore) remove(service string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.provisionings, service)
}

// get returns a service's provisioning as it is now.
func (s *memStore) get(service string) (store.Provisioning, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.provisionings[service]
	return p, ok
}

// calls returns the calls recorded since the last calls, and forgets them.
func (s *memStore) calls() (lists []listCall, gets, markedApplied, markedReady []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lists, gets, markedApplied, markedReady = s.lists, s.gets, s.markedApplied, s.markedReady
	s.lists, s.gets, s.markedApplied, s.markedReady = nil, nil, nil, nil
	return lists, gets, markedApplied, markedReady
}

func (s *memStore) GetProvisioning(_ context.Context, service string) (store.Provisioning, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets = append(s.gets, service)
	if s.failGet != nil {
		if err := s.failGet(service); err != nil {
			return store.Provisioning{}, err
		}
	}
	p, ok := s.provisionings[service]
	if !ok {
		return store.Provisioning{}, store.ErrNotFound
	}
	return p, nil
}

func (s *memStore) ListProvisionings(_ context.Context, after string, limit int) ([]store.Provisioning, error) {
	return s.list(false, after, limit)
}

func (s *memStore) ListPendingProvisionings(_ context.Context, after string, limit int) ([]store.Provisioning, error) {
	return s.list(true, after, limit)
}

func (s *memStore) list(pending bool, after string, limit int) ([]store.Provisioning, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists = append(s.lists, listCall{Pending: pending, After: after, Limit: limit})
	if s.failList != nil {
		if err := s.failList(after); err != nil {
			return nil, err
		}
	}
	var page []store.Provisioning
	for _, p := range s.provisionings {
		if p.Service <= after {
			continue
		}
		if pending && p.AppliedGeneration >= p.Generation && !p.ReadyTime.IsZero() {
			continue
		}
		page = append(page, p)
	}
	slices.SortFunc(page, func(a, b store.Provisioning) int { return strings.Compare(a.Service, b.Service) })
	if len(page) > limit {
		page = page[:limit]
	}
	return page, nil
}

func (s *memStore) MarkProvisioningApplied(_ context.Context, service string, generation int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.markedApplied = append(s.markedApplied, fmt.Sprintf("%s@%d", service, generation))
	if s.failMarkApplied != nil {
		if err := s.failMarkApplied(service); err != nil {
			return err
		}
	}
	p, ok := s.provisionings[service]
	if !ok {
		return store.ErrNotFound
	}
	p.AppliedGeneration = max(p.AppliedGeneration, generation)
	s.provisionings[service] = p
	return nil
}

func (s *memStore) MarkProvisioningReady(_ context.Context, service string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.markedReady = append(s.markedReady, service)
	p, ok := s.provisionings[service]
	if !ok {
		return store.ErrNotFound
	}
	if p.ReadyTime.IsZero() {
		p.ReadyTime = at
	}
	s.provisionings[service] = p
	return nil
}

// fakeCluster holds objects in memory, as the informer caches would after
// every apply, and records applies, deletes and sync requests.
type fakeCluster struct {
	failApply     func(obj *unstructured.Unstructured) error
	failDelete    func(obj *unstructured.Unstructured) error
	failNamespace error

	mu       sync.Mutex
	objects  map[string]*unstructured.Unstructured // by kube.ObjectKey
	applied  []string                              // object keys, in call order
	deleted  []string
	syncs    []string // namespace/name@revision
	onRemove []func(service string)
	// namespaces are the namespaces ensured, in call order, each as
	// namespace/team, after "environment:" for an environment's own claims.
	namespaces []string
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{objects: map[string]*unstructured.Unstructured{}}
}

// hold puts objects on the cluster as they are, without an apply.
func (c *fakeCluster) hold(objs ...*unstructured.Unstructured) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, obj := range objs {
		c.objects[kube.ObjectKey(obj)] = obj.DeepCopy()
	}
}

// object returns the object of key the cluster holds, nil if none.
func (c *fakeCluster) object(key string) *unstructured.Unstructured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.objects[key]
}

// update changes the object of key in place, as a controller writing its
// status would.
func (c *fakeCluster) update(key string, change func(obj *unstructured.Unstructured)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	change(c.objects[key])
}

// remove deletes the object of key as someone other than Cairn would, and
// then, as the informers do for an object Cairn manages, calls the
// OnRemoved handlers with its service.
func (c *fakeCluster) remove(key string) {
	c.mu.Lock()
	obj := c.objects[key]
	delete(c.objects, key)
	handlers := slices.Clone(c.onRemove)
	c.mu.Unlock()
	if obj == nil || obj.GetLabels()[manifest.LabelManagedBy] != manifest.ManagedBy {
		return
	}
	for _, fn := range handlers {
		fn(obj.GetLabels()[manifest.LabelName])
	}
}

// calls returns the calls recorded since the last calls, and forgets them.
func (c *fakeCluster) calls() (applied, deleted, syncs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	applied, deleted, syncs = c.applied, c.deleted, c.syncs
	c.applied, c.deleted, c.syncs = nil, nil, nil
	return applied, deleted, syncs
}

func (c *fakeCluster) EnsureNamespace(_ context.Context, environment, namespace, team string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if environment != "" {
		namespace = environment + ":" + namespace
	}
	c.namespaces = append(c.namespaces, namespace+"/"+team)
	return c.failNamespace
}

// Apply holds obj, keeping the status of an object already there: server-
// side apply leaves the fields of other managers alone.
func (c *fakeCluster) Apply(_ context.Context, obj *unstructured.Unstructured) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := kube.ObjectKey(obj)
	c.applied = append(c.applied, key)
	if c.failApply != nil {
		if err := c.failApply(obj); err != nil {
			return err
		}
	}
	held := obj.DeepCopy()
	if old, ok := c.objects[key]; ok {
		if status, ok := old.Object["status"]; ok {
			held.Object["status"] = status
		}
	}
	c.objects[key] = held
	return nil
}

func (c *fakeCluster) Delete(_ context.Context, obj *unstructured.Unstructured) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := kube.ObjectKey(obj)
	c.deleted = append(c.deleted, key)
	if c.failDelete != nil {
		if err := c.failDelete(obj); err != nil {
			return err
		}
	}
	delete(c.objects, key)
	return nil
}

func (c *fakeCluster) RequestSync(_ context.Context, app *unstructured.Unstructured, revision, _ string) error {
	namespace, name := app.GetNamespace(), app.GetName()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncs = append(c.syncs, namespace+"/"+name+"@"+revision)
	return nil
}

// Objects returns a service's objects, found by their name label as
// kube.Cluster's index finds them, in key order.
func (c *fakeCluster) Objects(service string) (applications, claims []*unstructured.Unstructured) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []string
	for key, obj := range c.objects {
		if name, _, _ := unstructured.NestedString(obj.Object, "metadata", "labels", manifest.LabelName); name == service {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		obj := c.objects[key]
		if obj.GetKind() == manifest.KindApplication {
			applications = append(applications, obj.DeepCopy())
		} else {
			claims = append(claims, obj.DeepCopy())
		}
	}
	return applications, claims
}

func (c *fakeCluster) Stale() bool { return false }

func (c *fakeCluster) StaleCluster(string) bool { return false }

func (c *fakeCluster) ClusterOf(*unstructured.Unstructured) string { return "default" }

func (c *fakeCluster) OnChange(func(service string)) {}

func (c *fakeCluster) OnRemoved(fn func(service string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onRemove = append(c.onRemove, fn)
}

func (c *fakeCluster) OnManualClaim(func(kind string)) {}
