// Command devcluster runs a Kubernetes API server for tests that run Cairn
// as a separate process, such as the Backstage plugin's integration and
// browser tests: a real kube-apiserver and etcd started through kubetest
// (KUBEBUILDER_ASSETS, or `make kube-assets`), with deploy/crds installed,
// the Argo CD namespace and the team namespaces asked for created, and a
// kubeconfig written for the cairn binary's --kubeconfig.
//
// It is a stand-in for Crossplane's and Argo CD's controllers, for tests
// only: those cannot run without nodes, so devcluster watches the claims and
// Applications that Cairn applies and writes the status those controllers
// would write, with kubetest's helpers: a new claim is Creating at once and
// Ready after -ready-after; a new Application with automated sync (staging)
// is Synced and Healthy at its target revision after -ready-after, one
// without (production) is OutOfSync until a sync is requested; a requested
// sync (an approved promotion) completes after -ready-after. Nothing is
// provisioned or deployed anywhere.
//
//	devcluster -kubeconfig /tmp/kubeconfig -namespace team-orders
//
// It prints one line once the cluster serves and the kubeconfig is written,
// and stops the API server and etcd on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

func main() {
	// A flag set of its own: controller-runtime, which envtest brings in,
	// defines -kubeconfig on the global one.
	flags := flag.NewFlagSet("devcluster", flag.ExitOnError)
	var opts options
	flags.StringVar(&opts.kubeconfig, "kubeconfig", "", "where to write the kubeconfig of the cluster (required)")
	flags.Func("namespace", "a namespace to create, such as a team's (repeatable)", func(name string) error {
		opts.namespaces = append(opts.namespaces, name)
		return nil
	})
	flags.DurationVar(&opts.readyAfter, "ready-after", 2*time.Second,
		"how long a claim stays Creating, and a new Application or a requested sync waits, before it is done")
	_ = flags.Parse(os.Args[1:]) // ExitOnError: Parse exits on a bad flag
	if opts.kubeconfig == "" || flags.NArg() > 0 {
		flags.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "devcluster:", err)
		os.Exit(1)
	}
}

type options struct {
	kubeconfig string
	namespaces []string
	readyAfter time.Duration
}

func run(ctx context.Context, opts options) (err error) {
	tb, err := newProgramTB()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, tb.finish()) }()

	var env *kubetest.Env
	var kubeconfig string
	err = tb.attempt(func(tb testing.TB) {
		env = kubetest.Start(tb)
		for _, ns := range opts.namespaces {
			env.CreateNamespace(tb, ns)
		}
		kubeconfig = env.Kubeconfig(tb)
	})
	if err != nil {
		return err
	}
	if err := copyFile(kubeconfig, opts.kubeconfig); err != nil {
		return err
	}

	c := newControllers(env, tb, opts.readyAfter)
	if err := c.start(ctx); err != nil {
		return err
	}
	fmt.Printf("devcluster: serving; kubeconfig %s\n", opts.kubeconfig)
	<-ctx.Done()
	c.stop()
	return nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}

// objectKey names an object of one of the kinds Cairn applies.
type objectKey struct {
	kind            manifest.Kind
	namespace, name string
}

// controllers stand in for Crossplane and Argo CD: informers on every kind
// Cairn applies feed one queue, and one worker brings each object one step
// further, as those controllers would.
type controllers struct {
	env        *kubetest.Env
	tb         *programTB
	readyAfter time.Duration
	factory    dynamicinformer.DynamicSharedInformerFactory
	informers  map[manifest.Kind]cache.SharedIndexInformer
	queue      workqueue.TypedDelayingInterface[objectKey]
	// due is when the pending step of an object is to be taken, from when
	// the worker first saw it pending. Only the worker touches it.
	due    map[objectKey]time.Time
	worker chan struct{} // closed when the worker ends
}

func newControllers(env *kubetest.Env, tb *programTB, readyAfter time.Duration) *controllers {
	return &controllers{
		env:        env,
		tb:         tb,
		readyAfter: readyAfter,
		factory:    dynamicinformer.NewDynamicSharedInformerFactory(env.Dynamic(), 0),
		informers:  map[manifest.Kind]cache.SharedIndexInformer{},
		queue:      workqueue.NewTypedDelayingQueue[objectKey](),
		due:        map[objectKey]time.Time{},
		worker:     make(chan struct{}),
	}
}

func (c *controllers) start(ctx context.Context) error {
	for _, kind := range manifest.Kinds(manifest.DefaultSettings()) {
		informer := c.factory.ForResource(kind.GroupVersionResource()).Informer()
		enqueue := func(obj any) {
			if u, ok := obj.(*unstructured.Unstructured); ok {
				c.queue.Add(objectKey{kind: kind, namespace: u.GetNamespace(), name: u.GetName()})
			}
		}
		_, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    enqueue,
			UpdateFunc: func(_, obj any) { enqueue(obj) },
		})
		if err != nil {
			return err
		}
		c.informers[kind] = informer
	}
	c.factory.Start(ctx.Done())
	for resource, synced := range c.factory.WaitForCacheSync(ctx.Done()) {
		if !synced {
			return fmt.Errorf("the watch on %s did not start", resource.Resource)
		}
	}
	go c.work()
	return nil
}

func (c *controllers) stop() {
	c.queue.ShutDown()
	<-c.worker
	c.factory.Shutdown()
}

func (c *controllers) work() {
	defer close(c.worker)
	for {
		key, shutdown := c.queue.Get()
		if shutdown {
			return
		}
		if err := c.reconcile(key); err != nil {
			// The API server is local; a failed write is retried shortly.
			fmt.Fprintf(os.Stderr, "devcluster: %s %s/%s: %v\n", key.kind.Kind, key.namespace, key.name, err)
			c.queue.AddAfter(key, time.Second)
		}
		c.queue.Done(key)
	}
}

// step is what a controller does next to an object: act, either at once or
// once the object has been pending for readyAfter. A nil act: nothing.
type step struct {
	act     func(tb testing.TB, obj *unstructured.Unstructured)
	delayed bool
}

func (c *controllers) reconcile(key objectKey) error {
	cached, exists, err := c.informers[key.kind].GetIndexer().GetByKey(cache.NewObjectName(key.namespace, key.name).String())
	if err != nil {
		return err
	}
	var next step
	obj, _ := cached.(*unstructured.Unstructured)
	if exists && obj != nil {
		if key.kind.Claim {
			next = c.claimStep(obj)
		} else {
			next = c.applicationStep(obj)
		}
	}
	if next.act == nil {
		delete(c.due, key)
		return nil
	}
	if next.delayed {
		due, seen := c.due[key]
		if !seen {
			due = time.Now().Add(c.readyAfter)
			c.due[key] = due
		}
		if wait := time.Until(due); wait > 0 {
			c.queue.AddAfter(key, wait)
			return nil
		}
	}
	delete(c.due, key)
	return c.tb.attempt(func(tb testing.TB) { next.act(tb, obj) })
}

// claimStep is Crossplane's: a claim with no Ready condition is Creating,
// and a Creating one is Ready after readyAfter.
func (c *controllers) claimStep(claim *unstructured.Unstructured) step {
	ready, found := condition(claim, "Ready")
	switch {
	case !found:
		return step{act: c.env.MarkClaimCreating}
	case ready["status"] != "True":
		return step{act: c.env.MarkClaimReady, delayed: true}
	}
	return step{}
}

// applicationStep is Argo CD's: a requested sync runs; an Application with
// automated sync is synced to its target revision; one without is compared
// with its source, which it does not match until it is synced.
func (c *controllers) applicationStep(app *unstructured.Unstructured) step {
	name := app.GetName()
	if _, requested, _ := unstructured.NestedMap(app.Object, "operation"); requested {
		return step{act: func(tb testing.TB, _ *unstructured.Unstructured) { c.env.CompleteOperation(tb, name) }, delayed: true}
	}
	revision, _, _ := unstructured.NestedString(app.Object, "spec", "source", "targetRevision")
	syncStatus, _, _ := unstructured.NestedString(app.Object, "status", "sync", "status")
	_, automated, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
	switch {
	case automated && syncStatus != "Synced":
		return step{act: func(tb testing.TB, _ *unstructured.Unstructured) { c.env.MarkApplicationSynced(tb, name, revision) }, delayed: true}
	case !automated && syncStatus == "":
		return step{act: func(tb testing.TB, _ *unstructured.Unstructured) { c.env.MarkApplicationOutOfSync(tb, name, revision) }}
	}
	return step{}
}

// condition returns a claim's status condition of the given type.
func condition(obj *unstructured.Unstructured, conditionType string) (map[string]any, bool) {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		if cond, ok := c.(map[string]any); ok && cond["type"] == conditionType {
			return cond, true
		}
	}
	return nil, false
}
