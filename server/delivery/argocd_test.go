package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// memoryApplications is an informer cache of Applications in memory: it
// tells OnChange's handlers of every change, as kube.Cluster does, after
// the change is in the cache.
type memoryApplications struct {
	mu       sync.Mutex
	apps     map[string]*unstructured.Unstructured // by name
	handlers []func(service string)
}

func newMemoryApplications() *memoryApplications {
	return &memoryApplications{apps: map[string]*unstructured.Unstructured{}}
}

func (m *memoryApplications) Applications() []*unstructured.Unstructured {
	m.mu.Lock()
	defer m.mu.Unlock()
	var apps []*unstructured.Unstructured
	for _, app := range m.apps {
		apps = append(apps, app.DeepCopy())
	}
	return apps
}

func (m *memoryApplications) Objects(service string) (applications, claims []*unstructured.Unstructured) {
	for _, app := range m.Applications() {
		if app.GetLabels()[manifest.LabelName] == service {
			applications = append(applications, app)
		}
	}
	return applications, nil
}

func (m *memoryApplications) OnChange(fn func(service string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.handlers = append(m.handlers, fn)
}

// put stores app, as made or changed, and tells the handlers.
func (m *memoryApplications) put(app *unstructured.Unstructured) {
	m.mu.Lock()
	m.apps[app.GetName()] = app.DeepCopy()
	handlers := m.handlers
	m.mu.Unlock()
	for _, fn := range handlers {
		fn(app.GetLabels()[manifest.LabelName])
	}
}

// delete deletes the Application named name, and tells the handlers.
func (m *memoryApplications) delete(name string) {
	m.mu.Lock()
	app := m.apps[name]
	delete(m.apps, name)
	handlers := m.handlers
	m.mu.Unlock()
	for _, fn := range handlers {
		fn(app.GetLabels()[manifest.LabelName])
	}
}

// memoryRecorder keeps deployments once per key, as the store does:
// service, environment, revision and start.
type memoryRecorder struct {
	mu          sync.Mutex
	deployments map[string]store.Deployment
	calls       int
}

func newMemoryRecorder() *memoryRecorder {
	return &memoryRecorder{deployments: map[string]store.Deployment{}}
}

func (r *memoryRecorder) RecordDeployment(_ context.Context, d store.Deployment) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	key := fmt.Sprint(d.Service, d.Environment, d.Revision, d.StartedAt.UnixNano())
	if _, ok := r.deployments[key]; ok {
		return false, nil
	}
	r.deployments[key] = d
	return true, nil
}

// revisions are the revisions recorded, in no particular order.
func (r *memoryRecorder) revisions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var revisions []string
	for _, d := range r.deployments {
		revisions = append(revisions, d.Revision)
	}
	return revisions
}

// historyEntry is one entry of an Application's status.history.
type historyEntry struct {
	id       int64
	revision string
	at       time.Time
}

// application is an Application of orders-service's production, as Cairn
// labels it, with uid and the history given.
func application(uid string, history ...historyEntry) *unstructured.Unstructured {
	app := &unstructured.Unstructured{}
	app.SetAPIVersion("argoproj.io/v1alpha1")
	app.SetKind(manifest.KindApplication)
	app.SetNamespace("argocd")
	app.SetName("orders-service-production")
	app.SetUID(types.UID(uid))
	app.SetLabels(map[string]string{manifest.LabelName: "orders-service", manifest.LabelEnvironment: "production"})
	entries := make([]any, 0, len(history))
	for _, h := range history {
		at := h.at.UTC().Format(time.RFC3339)
		entries = append(entries, map[string]any{"id": h.id, "revision": h.revision, "deployedAt": at, "deployStartedAt": at})
	}
	_ = unstructured.SetNestedSlice(app.Object, entries, "status", "history")
	return app
}

// runIntake runs an intake of apps into recorder until the test ends, or
// until the function it returns stops it.
func runIntake(t *testing.T, apps *memoryApplications, recorder *memoryRecorder) (*ArgoCDIntake, func()) {
	t.Helper()
	intake := NewArgoCDIntake(apps, recorder, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { intake.Run(ctx) })
	stop := func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return intake, stop
}

func (in *ArgoCDIntake) remembered() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.recorded)
}

func TestIntakeRecordsARecreatedApplicationsHistoryFromIDZero(t *testing.T) {
	apps, recorder := newMemoryApplications(), newMemoryRecorder()
	start := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	at := func(minutes int) time.Time { return start.Add(time.Duration(minutes) * time.Minute) }
	requireRevisions := func(t *testing.T, want ...string) {
		t.Helper()
		require.Eventually(t, func() bool { return len(recorder.revisions()) == len(want) },
			10*time.Second, time.Millisecond, "recorded %v, want %v", recorder.revisions(), want)
		require.ElementsMatch(t, want, recorder.revisions())
	}

	first := []historyEntry{{0, "r1", at(0)}, {1, "r2", at(1)}, {2, "r3", at(2)}}
	apps.put(application("uid-1", first...))
	intake, stop := runIntake(t, apps, recorder)
	requireRevisions(t, "r1", "r2", "r3")

	// Deleted, and made again at once (as Cairn's reconciler does): the new
	// Application is another uid whose history Argo CD numbers from 0.
	apps.delete("orders-service-production")
	require.Eventually(t, func() bool { return intake.remembered() == 0 }, 10*time.Second, time.Millisecond,
		"the deleted Application is still remembered")
	apps.put(application("uid-2", historyEntry{0, "r4", at(10)}))
	requireRevisions(t, "r1", "r2", "r3", "r4")
	apps.put(application("uid-2", historyEntry{0, "r4", at(10)}, historyEntry{1, "r5", at(11)}))
	requireRevisions(t, "r1", "r2", "r3", "r4", "r5")
	require.Eventually(t, func() bool { return intake.remembered() == 1 }, 10*time.Second, time.Millisecond)

	// A restart (a new leader) reads every history again and records
	// nothing twice.
	stop()
	recorder.mu.Lock()
	calls := recorder.calls
	recorder.mu.Unlock()
	_, _ = runIntake(t, apps, recorder)
	require.Eventually(t, func() bool {
		recorder.mu.Lock()
		defer recorder.mu.Unlock()
		return recorder.calls == calls+2
	}, 10*time.Second, time.Millisecond, "the new intake did not read the history")
	requireRevisions(t, "r1", "r2", "r3", "r4", "r5")
}

func TestIntakeForgetsDeletedApplications(t *testing.T) {
	apps, recorder := newMemoryApplications(), newMemoryRecorder()
	intake, _ := runIntake(t, apps, recorder)
	start := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for i := range 50 {
		apps.put(application(fmt.Sprintf("uid-%d", i), historyEntry{0, fmt.Sprintf("r%d", i), start.Add(time.Duration(i) * time.Minute)}))
		require.Eventually(t, func() bool { return len(recorder.revisions()) == i+1 }, 10*time.Second, time.Millisecond)
		require.Eventually(t, func() bool { return intake.remembered() == 1 }, 10*time.Second, time.Millisecond)
		apps.delete("orders-service-production")
		require.Eventually(t, func() bool { return intake.remembered() == 0 }, 10*time.Second, time.Millisecond,
			"cycle %d: the deleted Application is still remembered", i)
	}
}
