// Package kubetest gives tests a real Kubernetes API server: controller-
// runtime's envtest running kube-apiserver and etcd from KUBEBUILDER_ASSETS
// (else the repository's .cache/kube/v1.37.2, which `make kube-assets`
// builds), with the CRDs of deploy/crds installed and the Argo CD namespace
// created. Nothing is downloaded.
//
// Crossplane's and Argo CD's controllers cannot run here (there are no
// nodes), so the Mark* methods write the status they would write, through
// the status subresource as they do; everything Cairn does against the
// server is real.
//
// Starting a server takes a few seconds, so a test binary shares one, which
// TestMain sets up:
//
//	func TestMain(m *testing.M) { kubetest.Main(m) }
//
// and each test takes it with Shared, keeping to namespaces and names of its
// own (namespaces cannot be deleted here: no controller empties them):
//
//	env := kubetest.Shared(t)
//	env.CreateNamespace(t, "payments")
//
// A test binary that also shares a PostgreSQL server nests the two:
//
//	func TestMain(m *testing.M) { kubetest.Run(func() { pgtest.Main(m) }) }
//
// A test that stops and restarts the API server starts an Env of its own
// with Start, so as not to pull the shared one from under other tests.
//
// The processes' output goes to files in the Env's temporary folder, whose
// ends a failed start or stop shows; with
// KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT=true it goes to the test binary's
// own. On Linux the processes die with the test binary, even one killed by
// a timeout (see dieWithTests).
package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cairn-dev/cairn/internal/testenv"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

const (
	// startTimeout bounds the start of etcd and of the API server each, and
	// stopTimeout their stops, unless KUBEBUILDER_CONTROLPLANE_START_TIMEOUT
	// or ..._STOP_TIMEOUT say otherwise. envtest's 20 s default is short on
	// a small, busy machine.
	startTimeout = 90 * time.Second
	stopTimeout  = 30 * time.Second
	// readyTimeout bounds the wait, after the API server answers its health
	// check, until it serves every kind Cairn uses.
	readyTimeout = 60 * time.Second
	// watchTerminationGracePeriod is how long the API server, told to stop,
	// lets its watches drain before it ends them.
	watchTerminationGracePeriod = 2 * time.Second
	// requestTimeout bounds each request a helper makes.
	requestTimeout = 30 * time.Second
)

var namespaceResource = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// Env is a running kube-apiserver and etcd for tests. Its methods may be
// called from parallel tests, except StopAPIServer and StartAPIServer.
type Env struct {
	testEnv  *envtest.Environment
	config   *rest.Config
	client   dynamic.Interface
	settings manifest.Settings
	dir      string     // kubetest's own: the API server's certificates, the logs
	logs     []*os.File // the processes' output, closed on stop

	// ownedByTest is set on an Env started by Start: only such an Env may
	// have its API server stopped, as the shared one serves other tests too.
	ownedByTest bool

	mu            sync.Mutex // serializes StopAPIServer and StartAPIServer
	apiServerDown bool
}

// shared is the test binary's Env: Main or Run enables it, Shared starts it
// on first use, and Main or Run stops it once the tests are done.
var shared struct {
	enabled bool
	once    sync.Once
	env     *Env
	err     error
}

// Main runs the tests of a test binary that uses Shared, then stops the
// shared Env if one was started. Call it from TestMain.
func Main(m *testing.M) {
	Run(func() { m.Run() }) // TestMain returning hands m.Run's exit code to os.Exit
}

// Run is Main for a TestMain that runs the tests some other way, such as
// through pgtest.Main: it enables Shared, calls run, which must run the
// tests, then stops the shared Env if one was started.
func Run(run func()) {
	shared.enabled = true
	run()
	if shared.env != nil {
		if err := shared.env.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "kubetest: %v\n", err)
		}
	}
}

// Shared returns the test binary's Env, started on first use; Main stops it
// at the end. It fails tb if the Env cannot be started.
func Shared(tb testing.TB) *Env {
	tb.Helper()
	if !shared.enabled {
		tb.Fatal("kubetest: Shared needs the test binary's TestMain to call kubetest.Main (or kubetest.Run)")
	}
	shared.once.Do(func() { shared.env, shared.err = start() })
	if shared.err != nil {
		tb.Fatalf("kubetest: %v", shared.err)
	}
	return shared.env
}

// Start starts an Env for tb alone, which tb's end stops. Its API server
// can be stopped and started again (StopAPIServer, StartAPIServer).
func Start(tb testing.TB) *Env {
	tb.Helper()
	e, err := start()
	if err != nil {
		tb.Fatalf("kubetest: %v", err)
	}
	e.ownedByTest = true
	tb.Cleanup(func() {
		if err := e.stop(); err != nil {
			tb.Errorf("kubetest: %v", err)
		}
	})
	return e
}

var setLoggerOnce sync.Once

// start starts etcd and the API server, installs the CRDs and creates the
// Argo CD namespace.
func start() (*Env, error) {
	// envtest logs through controller-runtime's logger, which prints a stack
	// trace instead when no logger is set within 30 s of the binary's start.
	// Errors (envtest's retries of a failed start) go to stderr.
	setLoggerOnce.Do(func() {
		ctrllog.SetLogger(funcr.New(func(prefix, args string) {
			fmt.Fprintln(os.Stderr, "kubetest: envtest:", prefix, args)
		}, funcr.Options{}))
	})

	assets, err := findAssets()
	if err != nil {
		return nil, err
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubetest-")
	if err != nil {
		return nil, err
	}
	e := &Env{settings: manifest.DefaultSettings(), dir: dir}
	if err := e.startControlPlane(assets, root); err != nil {
		return nil, errors.Join(err, e.stop())
	}
	return e, nil
}

func (e *Env) startControlPlane(assets, root string) error {
	// The API server's certificates are kept in a folder of kubetest's own,
	// not one envtest makes and deletes on every stop: that is what lets the
	// API server restart on the same certificates (see StopAPIServer).
	certDir := filepath.Join(e.dir, "apiserver")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		return err
	}
	apiServerPath, err := dieWithTests(e.dir, filepath.Join(assets, "kube-apiserver"))
	if err != nil {
		return err
	}
	etcdPath, err := dieWithTests(e.dir, filepath.Join(assets, "etcd"))
	if err != nil {
		return err
	}
	apiServer := &envtest.APIServer{Path: apiServerPath, CertDir: certDir}
	// By default the API server, told to stop, waits for open watches (such
	// as Cairn's informers') until its request timeout, 60 s, before it
	// exits; with a grace period it ends them and exits in a second or two.
	apiServer.Configure().Set("shutdown-watch-termination-grace-period", watchTerminationGracePeriod.String())
	etcd := &envtest.Etcd{Path: etcdPath}
	if os.Getenv("KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT") != "true" {
		if apiServer.Out, err = e.logFile("kube-apiserver.log"); err != nil {
			return err
		}
		apiServer.Err = apiServer.Out
		if etcd.Out, err = e.logFile("etcd.log"); err != nil {
			return err
		}
		etcd.Err = etcd.Out
	}

	e.testEnv = &envtest.Environment{
		ControlPlane:          envtest.ControlPlane{APIServer: apiServer, Etcd: etcd},
		CRDDirectoryPaths:     []string{filepath.Join(root, "deploy", "crds")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT") == "" {
		e.testEnv.ControlPlaneStartTimeout = startTimeout
	}
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT") == "" {
		e.testEnv.ControlPlaneStopTimeout = stopTimeout
	}
	cfg, err := e.testEnv.Start()
	if err != nil {
		return fmt.Errorf("start kube-apiserver and etcd from %s: %w%s", assets, err, e.logTails())
	}
	e.config = cfg
	if e.client, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	return e.createNamespace(ctx, e.settings.ArgoCDNamespace)
}

// stop stops the API server and etcd, and removes their files.
func (e *Env) stop() error {
	var errs []error
	if e.testEnv != nil {
		if err := e.testEnv.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop kube-apiserver and etcd: %w", err))
		}
	}
	for _, f := range e.logs {
		errs = append(errs, f.Close())
	}
	errs = append(errs, os.RemoveAll(e.dir))
	return errors.Join(errs...)
}

// Config is the configuration of a client with every right on the API
// server (a member of system:masters). Each call returns a copy.
func (e *Env) Config() *rest.Config { return rest.CopyConfig(e.config) }

// Dynamic is a dynamic client with the rights of Config.
func (e *Env) Dynamic() dynamic.Interface { return e.client }

// Kubeconfig writes a kubeconfig file for the user of Config in a temporary
// folder of tb's and returns its path: the file for a separate process,
// such as the cairn binary's --kubeconfig. Certificates and keys are in
// the file itself. It stays valid across StopAPIServer and StartAPIServer.
func (e *Env) Kubeconfig(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, e.testEnv.KubeConfig, 0o600); err != nil {
		tb.Fatalf("kubetest: %v", err)
	}
	return path
}

// CreateNamespace creates a namespace, such as a team's, unless it exists.
func (e *Env) CreateNamespace(tb testing.TB, name string) {
	tb.Helper()
	ctx, cancel := requestContext()
	defer cancel()
	if err := e.createNamespace(ctx, name); err != nil {
		tb.Fatalf("kubetest: %v", err)
	}
}

func (e *Env) createNamespace(ctx context.Context, name string) error {
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata":   map[string]any{"name": name},
	}}
	_, err := e.client.Resource(namespaceResource).Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// StopAPIServer stops the kube-apiserver process and leaves etcd, and so
// the data, running. The stop is graceful, as in an upgrade: the server
// stops listening, ends open watches (Cairn's informers see them close)
// within 2 s and exits, in a second or so. Clients
// get connection errors until StartAPIServer. Only an Env started by Start
// can be stopped.
//
// envtest's APIServer supports being started again after Stop: it keeps its
// port, its serving CA and its client CA (the Authn) in the struct, and
// finds its serving certificate in its certificate folder, which kubetest
// owns so that the stop does not delete it. So the restarted server listens
// on the same address with the same certificates, and every client made
// from Config or Kubeconfig reconnects as it is.
func (e *Env) StopAPIServer(tb testing.TB) {
	tb.Helper()
	e.requireOwnedByTest(tb)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.apiServerDown {
		tb.Fatal("kubetest: the API server is stopped already")
	}
	if err := e.testEnv.ControlPlane.APIServer.Stop(); err != nil {
		tb.Fatalf("kubetest: stop kube-apiserver: %v%s", err, e.logTails())
	}
	e.apiServerDown = true
}

// StartAPIServer starts the API server again after StopAPIServer, on the
// same port and certificates, and waits until it serves every kind Cairn
// uses. It fails tb if the port was taken in the meantime (by another
// process on the machine: unlikely, not impossible).
func (e *Env) StartAPIServer(tb testing.TB) {
	tb.Helper()
	e.requireOwnedByTest(tb)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.apiServerDown {
		tb.Fatal("kubetest: the API server is running already")
	}
	if err := e.testEnv.ControlPlane.APIServer.Start(); err != nil {
		tb.Fatalf("kubetest: start kube-apiserver again: %v%s", err, e.logTails())
	}
	e.apiServerDown = false
	if err := e.waitServing(); err != nil {
		tb.Fatalf("kubetest: %v%s", err, e.logTails())
	}
}

// waitServing waits until the API server lists every kind Cairn uses: its
// health check, which envtest waits for, need not mean that it serves the
// custom resources it reads back from etcd yet.
func (e *Env) waitServing() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for _, kind := range manifest.Kinds(e.settings) {
		for {
			_, err := e.client.Resource(kind.GroupVersionResource()).List(ctx, metav1.ListOptions{Limit: 1})
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the API server did not serve %s within %v after its start: %w", kind.Resource, readyTimeout, err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

func (e *Env) requireOwnedByTest(tb testing.TB) {
	tb.Helper()
	if !e.ownedByTest {
		tb.Fatal("kubetest: only an Env started by Start can have its API server stopped and started")
	}
}

// Get returns obj as the API server has it now: obj is any object of a kind
// Cairn applies (as manifest.Objects builds it, say); only its apiVersion, kind,
// namespace and name count. Nil if there is no such object.
func (e *Env) Get(tb testing.TB, obj *unstructured.Unstructured) *unstructured.Unstructured {
	tb.Helper()
	kind := e.kindOf(tb, obj)
	return e.get(tb, kind, obj.GetNamespace(), obj.GetName())
}

// Application returns the Application of that name in the Argo CD
// namespace, nil if there is none.
func (e *Env) Application(tb testing.TB, name string) *unstructured.Unstructured {
	tb.Helper()
	return e.get(tb, manifest.ApplicationKind, e.settings.ArgoCDNamespace, name)
}

func (e *Env) get(tb testing.TB, kind manifest.Kind, namespace, name string) *unstructured.Unstructured {
	tb.Helper()
	ctx, cancel := requestContext()
	defer cancel()
	obj, err := e.client.Resource(kind.GroupVersionResource()).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		tb.Fatalf("kubetest: get %s %s/%s: %v", kind.Kind, namespace, name, err)
	}
	return obj
}

// kindOf is the kind of obj among those Cairn applies.
func (e *Env) kindOf(tb testing.TB, obj *unstructured.Unstructured) manifest.Kind {
	tb.Helper()
	for _, kind := range manifest.Kinds(e.settings) {
		if kind.GroupVersionKind == obj.GroupVersionKind() {
			return kind
		}
	}
	tb.Fatalf("kubetest: %s %s/%s is not of a kind Cairn applies", obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
	return manifest.Kind{}
}

// requestContext bounds a helper's request. Not tb.Context, which ends
// before tb's cleanups, where a helper may be called too.
func requestContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), requestTimeout)
}

// RunCluster runs cluster's informers until the test ends, waits for them
// then, and returns once they have synced.
func RunCluster(tb testing.TB, cluster *kube.Cluster) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var informers sync.WaitGroup
	informers.Go(func() { cluster.Run(ctx) })
	tb.Cleanup(func() { cancel(); informers.Wait() })
	if !cluster.WaitForSync(ctx) {
		tb.Fatal("Cairn's informers did not sync")
	}
}
