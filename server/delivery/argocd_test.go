package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cairn-dev/cairn/server/apierr"
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
// service, environment, revision and start. It fails on demand: a
// revision given an error by failOn is answered that error, and not kept,
// until failOn clears it.
type memoryRecorder struct {
	mu          sync.Mutex
	deployments map[string]store.Deployment
	calls       int
	asked       []string         // "revision status" of each call, in order
	errs        map[string]error // by revision
}

func newMemoryRecorder() *memoryRecorder {
	return &memoryRecorder{deployments: map[string]store.Deployment{}, errs: map[string]error{}}
}

func (r *memoryRecorder) RecordDeployment(_ context.Context, d store.Deployment) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.asked = append(r.asked, d.Revision+" "+d.Status)
	if err := r.errs[d.Revision]; err != nil {
		return false, err
	}
	key := fmt.Sprint(d.Service, d.Environment, d.Revision, d.StartedAt.UnixNano())
	if _, ok := r.deployments[key]; ok {
		return false, nil
	}
	r.deployments[key] = d
	return true, nil
}

// failOn makes the recorder answer err for revision; nil makes it record
// revision again.
func (r *memoryRecorder) failOn(revision string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		delete(r.errs, revision)
		return
	}
	r.errs[revision] = err
}

// takeAsked returns what the recorder was asked since the last takeAsked,
// "revision status" a call, in order.
func (r *memoryRecorder) takeAsked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	asked := r.asked
	r.asked = nil
	return asked
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
	return applicationOf("orders-service", uid, history...)
}

// applicationOf is an Application of service's production, as Cairn names
// and labels it, with uid and the history given.
func applicationOf(service, uid string, history ...historyEntry) *unstructured.Unstructured {
	app := &unstructured.Unstructured{}
	app.SetAPIVersion("argoproj.io/v1alpha1")
	app.SetKind(manifest.KindApplication)
	app.SetNamespace("argocd")
	app.SetName(service + "-production")
	app.SetUID(types.UID(uid))
	app.SetLabels(map[string]string{manifest.LabelName: service, manifest.LabelEnvironment: "production"})
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

// withSyncOperation is app with Argo CD's status.operationState of a sync of
// revision in phase (Running, Succeeded, Failed, Error) that started at
// started.
func withSyncOperation(app *unstructured.Unstructured, phase, revision string, started time.Time) *unstructured.Unstructured {
	app = app.DeepCopy()
	at := started.UTC().Format(time.RFC3339)
	state := map[string]any{
		"phase": phase, "startedAt": at,
		"operation":  map[string]any{"sync": map[string]any{"revision": revision}},
		"syncResult": map[string]any{"revision": revision},
	}
	if phase != "Running" {
		state["finishedAt"] = started.Add(time.Minute).UTC().Format(time.RFC3339)
	}
	_ = unstructured.SetNestedMap(app.Object, state, "status", "operationState")
	return app
}

// withAppLabels is app with its labels replaced by labels.
func withAppLabels(app *unstructured.Unstructured, labels map[string]string) *unstructured.Unstructured {
	app = app.DeepCopy()
	app.SetLabels(labels)
	return app
}

// intakePasses drives an intake one pass at a time, as Run does, without
// its goroutine or its retry timer: firstIntakePass is Run's start, next one turn
// of its loop, woken by a change or by the retry timer alike.
type intakePasses struct {
	t      *testing.T
	intake *ArgoCDIntake
	failed map[string]bool // services the last pass failed on
}

// firstIntakePass makes an intake of apps into recorder and runs its first pass
// over every Application.
func firstIntakePass(t *testing.T, apps *memoryApplications, recorder *memoryRecorder) *intakePasses {
	t.Helper()
	p := &intakePasses{t: t, intake: NewArgoCDIntake(apps, recorder, slog.New(slog.DiscardHandler))}
	pending := apps.Applications()
	p.intake.forget(nil, pending)
	p.failed = p.intake.recordAll(t.Context(), pending)
	return p
}

// next runs a later pass: over the Applications of the services that
// changed since the last one and of those it failed on. It returns how
// many Applications the pass read, so that a test that expects no call
// can tell that the pass had something to read.
func (p *intakePasses) next() (read int) {
	p.t.Helper()
	pending := p.intake.changedApplications(p.failed)
	p.failed = p.intake.recordAll(p.t.Context(), pending)
	return len(pending)
}

// argoAt is a time of the tests' Argo CD: minutes after 10:00, 2 November 2026.
func argoAt(minutes int) time.Time {
	return time.Date(2026, 11, 2, 10, minutes, 0, 0, time.UTC)
}

func TestIntakeRecordsNothingMoreWhenAChangeBringsNoNewHistory(t *testing.T) {
	apps, recorder := newMemoryApplications(), newMemoryRecorder()
	history := []historyEntry{{0, "r1", argoAt(0)}, {1, "r2", argoAt(1)}}
	apps.put(application("uid-1", history...))
	p := firstIntakePass(t, apps, recorder)
	require.Equal(t, []string{"r1 succeeded", "r2 succeeded"}, recorder.takeAsked())

	// Argo CD updates an Application's status many times between
	// deployments (health, a sync that is running): each is a change.
	for _, app := range []*unstructured.Unstructured{
		application("uid-1", history...),
		withSyncOperation(application("uid-1", history...), "Running", "r3", argoAt(5)),
		withSyncOperation(application("uid-1", history...), "Succeeded", "r2", argoAt(1)),
	} {
		apps.put(app)
		require.Equal(t, 1, p.next(), "the pass did not read the changed Application")
		require.Empty(t, recorder.takeAsked())
	}
	require.Empty(t, p.failed)
	require.ElementsMatch(t, []string{"r1", "r2"}, recorder.revisions())
}

func TestIntakeRecordsOnlyTheNewHistoryEntries(t *testing.T) {
	apps, recorder := newMemoryApplications(), newMemoryRecorder()
	apps.put(application("uid-1", historyEntry{0, "r1", argoAt(0)}, historyEntry{1, "r2", argoAt(1)}))
	p := firstIntakePass(t, apps, recorder)
	require.Equal(t, []string{"r1 succeeded", "r2 succeeded"}, recorder.takeAsked())

	apps.put(application("uid-1", historyEntry{0, "r1", argoAt(0)}, historyEntry{1, "r2", argoAt(1)}, historyEntry{2, "r3", argoAt(2)}))
	p.next()
	require.Equal(t, []string{"r3 succeeded"}, recorder.takeAsked())

	// Argo CD keeps the last entries only (ten by default): the oldest
	// drops off as a new one comes.
	apps.put(application("uid-1", historyEntry{1, "r2", argoAt(1)}, historyEntry{2, "r3", argoAt(2)}, historyEntry{3, "r4", argoAt(3)}))
	p.next()
	require.Equal(t, []string{"r4 succeeded"}, recorder.takeAsked())
	require.ElementsMatch(t, []string{"r1", "r2", "r3", "r4"}, recorder.revisions())
}

func TestIntakeRecordsAFailedSyncOncePerOperationStart(t *testing.T) {
	apps, recorder := newMemoryApplications(), newMemoryRecorder()
	history := []historyEntry{{0, "r1", argoAt(0)}}
	steps := []struct {
		name  string
		app   *unstructured.Unstructured
		asked []string
	}{
		{"a sync still running is not recorded",
			withSyncOperation(application("uid-1", history...), "Running", "r2", argoAt(10)), nil},
		{"the sync fails",
			withSyncOperation(application("uid-1", history...), "Failed", "r2", argoAt(10)), []string{"r2 failed"}},
		{"the same failed operation seen again",
			withSyncOperation(application("uid-1", history...), "Failed", "r2", argoAt(10)), nil},
		{"a new sync of the same revision is running",
			withSyncOperation(application("uid-1", history...), "Running", "r2", argoAt(20)), nil},
		{"the new sync fails: another start",
			withSyncOperation(application("uid-1", history...), "Failed", "r2", argoAt(20)), []string{"r2 failed"}},
		{"a sync that ends in Error",
			withSyncOperation(application("uid-1", history...), "Error", "r3", argoAt(30)), []string{"r3 failed"}},
		{"the Error operation seen again",
			withSyncOperation(application("uid-1", history...), "Error", "r3", argoAt(30)), nil},
		{"a sync succeeds: its history entry only",
			withSyncOperation(application("uid-1", append(history, historyEntry{1, "r3", argoAt(40)})...), "Succeeded", "r3", argoAt(40)),
			[]string{"r3 succeeded"}},
	}
	apps.put(application("uid-1", history...))
	p := firstIntakePass(t, apps, recorder)
	require.Equal(t, []string{"r1 succeeded"}, recorder.takeAsked())
	for _, step := range steps {
		apps.put(step.app)
		require.Equal(t, 1, p.next(), step.name)
		require.Equal(t, step.asked, recorder.takeAsked(), step.name)
	}
	require.Empty(t, p.failed)
}

func TestIntakeGivesUpWhatTheRecorderRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"invalid argument", apierr.Invalid(apierr.FieldViolation{Field: "started_at", Description: "too old"})},
		{"not found", apierr.NotFound("service", "orders-service")},
		{"failed precondition", &apierr.Error{Code: codes.FailedPrecondition, Reason: "CONFLICT", Message: "conflict"}},
		{"wrapped", fmt.Errorf("recording: %w", apierr.NotFound("service", "orders-service"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apps, recorder := newMemoryApplications(), newMemoryRecorder()
			recorder.failOn("r1", tc.err)
			recorder.failOn("r3", tc.err)
			app := withSyncOperation(application("uid-1", historyEntry{0, "r1", argoAt(0)}, historyEntry{1, "r2", argoAt(1)}), "Failed", "r3", argoAt(10))
			apps.put(app)
			p := firstIntakePass(t, apps, recorder)
			require.Equal(t, []string{"r1 succeeded", "r2 succeeded", "r3 failed"}, recorder.takeAsked())
			require.Empty(t, p.failed, "a refusal is retried")

			// Neither a change nor a recorder that would now take them
			// brings the refused deployments back.
			recorder.failOn("r1", nil)
			recorder.failOn("r3", nil)
			apps.put(app)
			require.Equal(t, 1, p.next())
			require.Empty(t, recorder.takeAsked())
			require.Equal(t, []string{"r2"}, recorder.revisions())
		})
	}
}

func TestIntakeRetriesWhatTheStoreFailedToTakeUntilItDoes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"store unavailable", fmt.Errorf("recording deployment: %w", store.ErrUnavailable)},
		{"plain error", errors.New("connection reset by peer")},
		{"apierr unavailable", &apierr.Error{Code: codes.Unavailable, Reason: "UNAVAILABLE", Message: "try again"}},
		// refused reads apierr errors only: a gRPC status, even of a code
		// it gives up on, is a failure to retry.
		{"gRPC status", status.Error(codes.InvalidArgument, "invalid")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apps, recorder := newMemoryApplications(), newMemoryRecorder()
			recorder.failOn("r1", tc.err)
			apps.put(application("uid-1", historyEntry{0, "r1", argoAt(0)}))
			p := firstIntakePass(t, apps, recorder)
			require.Equal(t, []string{"r1 succeeded"}, recorder.takeAsked())
			require.Equal(t, map[string]bool{"orders-service": true}, p.failed)

			// The retry timer's passes, with no change in between.
			require.Equal(t, 1, p.next())
			require.Equal(t, []string{"r1 succeeded"}, recorder.takeAsked())
			recorder.failOn("r1", nil)
			require.Equal(t, 1, p.next())
			require.Equal(t, []string{"r1 succeeded"}, recorder.takeAsked())
			require.Empty(t, p.failed)
			require.Equal(t, []string{"r1"}, recorder.revisions())

			// Recorded: a later pass does not ask again.
			require.Zero(t, p.next(), "a pass with no change and nothing to retry read Applications")
			apps.put(application("uid-1", historyEntry{0, "r1", argoAt(0)}))
			require.Equal(t, 1, p.next())
			require.Empty(t, recorder.takeAsked())
		})
	}
}

// TestIntakeRetriesOnlyTheServiceTheStoreFailedOn: one Application's
// failure stops neither the others of the pass nor brings them back in the
// retry. Within the failed Application, the retry starts again from the
// first entry of the pass that failed: the intake remembers an
// Application's progress only when all of it is recorded, and the store
// keeps what it took once.
func TestIntakeRetriesOnlyTheServiceTheStoreFailedOn(t *testing.T) {
	apps, recorder := newMemoryApplications(), newMemoryRecorder()
	apps.put(applicationOf("orders-service", "uid-orders", historyEntry{0, "orders-r1", argoAt(0)}))
	apps.put(applicationOf("payments-service", "uid-payments", historyEntry{0, "payments-r1", argoAt(0)}))
	p := firstIntakePass(t, apps, recorder)
	require.ElementsMatch(t, []string{"orders-r1 succeeded", "payments-r1 succeeded"}, recorder.takeAsked())

	recorder.failOn("orders-r3", store.ErrUnavailable)
	apps.put(applicationOf("orders-service", "uid-orders",
		historyEntry{0, "orders-r1", argoAt(0)}, historyEntry{1, "orders-r2", argoAt(1)}, historyEntry{2, "orders-r3", argoAt(2)}, historyEntry{3, "orders-r4", argoAt(3)}))
	apps.put(applicationOf("payments-service", "uid-payments", historyEntry{0, "payments-r1", argoAt(0)}, historyEntry{1, "payments-r2", argoAt(1)}))
	require.Equal(t, 2, p.next())
	require.ElementsMatch(t, []string{"orders-r2 succeeded", "orders-r3 succeeded", "payments-r2 succeeded"}, recorder.takeAsked(),
		"the pass went on past the failed entry of its Application, or stopped at another Application")
	require.Equal(t, map[string]bool{"orders-service": true}, p.failed)

	require.Equal(t, 1, p.next(), "the retry read more than the failed service's Application")
	require.Equal(t, []string{"orders-r2 succeeded", "orders-r3 succeeded"}, recorder.takeAsked())
	recorder.failOn("orders-r3", nil)
	require.Equal(t, 1, p.next())
	require.Equal(t, []string{"orders-r2 succeeded", "orders-r3 succeeded", "orders-r4 succeeded"}, recorder.takeAsked())
	require.Empty(t, p.failed)
	require.ElementsMatch(t, []string{"orders-r1", "orders-r2", "orders-r3", "orders-r4", "payments-r1", "payments-r2"}, recorder.revisions())
}

func TestIntakeRecordsNothingOfApplicationsWithoutCairnsLabels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
	}{
		{"no labels", nil},
		{"no environment", map[string]string{manifest.LabelName: "orders-service"}},
		{"no service", map[string]string{manifest.LabelEnvironment: "production"}},
		{"empty values", map[string]string{manifest.LabelName: "", manifest.LabelEnvironment: ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apps, recorder := newMemoryApplications(), newMemoryRecorder()
			app := withAppLabels(withSyncOperation(application("uid-1", historyEntry{0, "r1", argoAt(0)}), "Failed", "r2", argoAt(10)), tc.labels)
			apps.put(app)
			p := firstIntakePass(t, apps, recorder)
			require.Empty(t, recorder.takeAsked())
			require.Empty(t, p.failed)

			apps.put(withSyncOperation(withAppLabels(application("uid-1", historyEntry{0, "r1", argoAt(0)}, historyEntry{1, "r3", argoAt(20)}), tc.labels), "Failed", "r4", argoAt(30)))
			p.next()
			require.Empty(t, recorder.takeAsked())
			require.Empty(t, recorder.revisions())
		})
	}
}
