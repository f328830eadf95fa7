// Package deploytest renders Cairn's Kubernetes manifests (deploy/overlays)
// with kustomize's own engine, the one `kubectl kustomize` embeds, and
// applies them to an API server the way `kubectl apply --server-side` does:
// for the tests of the manifests themselves, and for end-to-end tests that
// run Cairn with the rights the manifests give it.
package deploytest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/cairn-dev/cairn/internal/testenv"
)

// Overlays are the folders under deploy/overlays, one per way of running
// Cairn.
var Overlays = []string{"sqlite", "postgres"}

// Render returns the objects `kubectl kustomize deploy/overlays/<overlay>`
// prints, in the same order.
func Render(overlay string) ([]*unstructured.Unstructured, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "deploy", "overlays", overlay)
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	objs := make([]*unstructured.Unstructured, 0, resources.Size())
	for _, r := range resources.Resources() {
		// Through JSON, so that numbers are int64 or float64 as client-go
		// expects of unstructured objects.
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("kustomize %s: %s: %w", dir, r.CurId(), err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("kustomize %s: %s: %w", dir, r.CurId(), err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// Find returns the object of that kind and name among objs, nil if there
// is none.
func Find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, obj := range objs {
		if obj.GetKind() == kind && obj.GetName() == name {
			return obj
		}
	}
	return nil
}

// FieldManager is the field manager of Applier's applies: kubectl's.
const FieldManager = "kubectl"

// Applier applies objects to one API server by server-side apply, as
// `kubectl apply --server-side` does, with strict field validation, so that
// a misspelt or misplaced field is an error rather than dropped. It finds
// each kind's resource through the API server's discovery. Its methods are
// not for concurrent use.
type Applier struct {
	client   dynamic.Interface
	mapper   meta.ResettableRESTMapper
	warnings *warningRecorder
}

// NewApplier returns an Applier for the API server and user of cfg.
func NewApplier(cfg *rest.Config) (*Applier, error) {
	cfg = rest.CopyConfig(cfg)
	warnings := &warningRecorder{}
	cfg.WarningHandler = warnings
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))
	return &Applier{client: client, mapper: mapper, warnings: warnings}, nil
}

// Apply applies obj and returns the warnings the API server answered with,
// such as Pod Security admission's. With dryRun the API server validates
// and admits obj as it would for real, and stores nothing.
func (a *Applier) Apply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) (warnings []string, err error) {
	resource, err := a.resourceOf(obj)
	if err != nil {
		return nil, err
	}
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager, Force: new(true), FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	a.warnings.reset()
	_, err = resource.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts)
	if err != nil {
		return nil, fmt.Errorf("apply %s %s: %w", obj.GetKind(), objectName(obj), err)
	}
	return a.warnings.reset(), nil
}

// resourceOf finds the resource of obj's kind, asking discovery again once
// if the kind is new to it, as a CustomResourceDefinition installed since
// the last question makes it.
func (a *Applier) resourceOf(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		a.mapper.Reset()
		mapping, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("the API server does not serve %s: %w", gvk, err)
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			return nil, fmt.Errorf("%s %s is namespaced and has no namespace", gvk.Kind, obj.GetName())
		}
		return a.client.Resource(mapping.Resource).Namespace(obj.GetNamespace()), nil
	}
	return a.client.Resource(mapping.Resource), nil
}

func objectName(obj *unstructured.Unstructured) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

// warningRecorder keeps the warnings the API server sends back.
type warningRecorder struct {
	mu       sync.Mutex
	warnings []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.warnings = append(w.warnings, text)
}

// reset returns the warnings recorded so far and forgets them.
func (w *warningRecorder) reset() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	got := w.warnings
	w.warnings = nil
	return got
}
