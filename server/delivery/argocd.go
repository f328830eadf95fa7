package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// Applications is the informer cache of Argo CD Applications the intake
// reads: kube.Cluster.
type Applications interface {
	Applications() []*unstructured.Unstructured
	Objects(service string) (applications, claims []*unstructured.Unstructured)
	OnChange(fn func(service string))
}

// DeploymentRecorder records a deployment once per key: Service.
type DeploymentRecorder interface {
	RecordDeployment(ctx context.Context, d store.Deployment) (created bool, err error)
}

// intakeRetry is how long the intake waits before recording again what the
// store failed to take.
const intakeRetry = 5 * time.Second

// ArgoCDIntake records the deployments Argo CD reports on Applications
// (manifest.DeploymentsOf): each status.history entry as a successful
// deployment, each sync that failed for good as a failed one. It needs no
// webhook: it reads the informer cache the status card reads.
//
// Exactly once: the store keeps a deployment once per (service,
// environment, revision, start), so a restart, a new leader or an informer
// resync records nothing twice, and an Application deleted and made again
// (whose history starts again from id 0) records its deployments as new
// ones; the intake remembers per Application (by uid) what it recorded, so
// that the many status updates Argo CD makes between deployments cost no
// store writes, and forgets it when the Application is deleted.
type ArgoCDIntake struct {
	apps     Applications
	recorder DeploymentRecorder
	logger   *slog.Logger
	kick     chan struct{}

	mu      sync.Mutex
	changed map[string]bool // services whose Applications changed
	// recorded is by the Application's uid, not its name: Argo CD numbers
	// the history of an Application deleted and made again (as Cairn does
	// at once) from 0, and the new one's ids are not the old one's.
	recorded map[types.UID]recordedThrough
}

// recordedThrough is what the intake recorded of one Application of a
// service: its history up to an id, and the failed sync that started at a
// time.
type recordedThrough struct {
	service      string
	historyID    int64
	failedSyncAt time.Time
}

// NewArgoCDIntake returns an intake of apps' deployments into recorder. It
// watches for changes from now on; Run records.
func NewArgoCDIntake(apps Applications, recorder DeploymentRecorder, logger *slog.Logger) *ArgoCDIntake {
	in := &ArgoCDIntake{
		apps: apps, recorder: recorder, logger: logger, kick: make(chan struct{}, 1),
		changed: map[string]bool{}, recorded: map[types.UID]recordedThrough{},
	}
	apps.OnChange(func(service string) {
		in.mu.Lock()
		in.changed[service] = true
		in.mu.Unlock()
		select {
		case in.kick <- struct{}{}:
		default:
		}
	})
	return in
}

// Run records deployments until ctx is done: first of every Application,
// then of those that change. It runs on the leader, beside the reconciler.
func (in *ArgoCDIntake) Run(ctx context.Context) {
	in.mu.Lock()
	clear(in.changed) // the full pass below covers them
	in.mu.Unlock()
	pending := in.apps.Applications()
	in.forget(nil, pending)
	for {
		var retry <-chan time.Time
		failed := in.recordAll(ctx, pending)
		if len(failed) > 0 {
			retry = time.After(intakeRetry)
		}
		select {
		case <-ctx.Done():
			return
		case <-in.kick:
		case <-retry:
		}
		pending = in.changedApplications(failed)
	}
}

// changedApplications takes the Applications, as the cache holds them now,
// of the services that changed and of those in retry, and forgets those of
// theirs that are gone.
func (in *ArgoCDIntake) changedApplications(retry map[string]bool) []*unstructured.Unstructured {
	in.mu.Lock()
	services := retry
	for service := range in.changed {
		services[service] = true
	}
	clear(in.changed)
	in.mu.Unlock()
	var apps []*unstructured.Unstructured
	for service := range services {
		applications, _ := in.apps.Objects(service)
		apps = append(apps, applications...)
	}
	in.forget(services, apps)
	return apps
}

// forget forgets what the intake recorded of the Applications of services
// (all of them, if nil) that are not among apps: deleted ones, whose uids
// never come back.
func (in *ArgoCDIntake) forget(services map[string]bool, apps []*unstructured.Unstructured) {
	current := make(map[types.UID]bool, len(apps))
	for _, app := range apps {
		current[app.GetUID()] = true
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for uid, through := range in.recorded {
		if (services == nil || services[through.service]) && !current[uid] {
			delete(in.recorded, uid)
		}
	}
}

// recordAll records the new deployments of apps and returns the services
// to try again: those of the Applications the store failed on. They are
// read from the cache again then, so that a retry sees what changed since,
// deletions included.
func (in *ArgoCDIntake) recordAll(ctx context.Context, apps []*unstructured.Unstructured) (failed map[string]bool) {
	failed = map[string]bool{}
	for _, app := range apps {
		if ctx.Err() != nil {
			return failed
		}
		if err := in.record(ctx, app); err != nil {
			in.logger.Warn("Argo CD deployments: recording", "application", app.GetNamespace()+"/"+app.GetName(), "error", err)
			failed[app.GetLabels()[manifest.LabelName]] = true
		}
	}
	return failed
}

// record records what app reports that the intake has not recorded yet.
func (in *ArgoCDIntake) record(ctx context.Context, app *unstructured.Unstructured) error {
	key := app.GetNamespace() + "/" + app.GetName()
	in.mu.Lock()
	through, known := in.recorded[app.GetUID()]
	in.mu.Unlock()
	if !known {
		through.historyID = -1
	}
	through.service = app.GetLabels()[manifest.LabelName]
	for _, d := range manifest.DeploymentsOf(app) {
		if d.Succeeded && d.HistoryID <= through.historyID || !d.Succeeded && d.StartedAt.Equal(through.failedSyncAt) {
			continue
		}
		created, err := in.recorder.RecordDeployment(ctx, storeDeployment(d))
		if err != nil && !refused(err) {
			return err
		}
		if err != nil {
			// Argo CD reported what Cairn cannot keep, such as a service
			// the catalog does not hold: trying again would not help.
			in.logger.Warn("Argo CD deployments: not recorded", "application", key, "revision", d.Revision, "error", err)
		} else if created {
			in.logger.Info("Argo CD deployment recorded", "service", d.Service, "environment", d.Environment,
				"revision", d.Revision, "succeeded", d.Succeeded)
		}
		if d.Succeeded {
			through.historyID = d.HistoryID
		} else {
			through.failedSyncAt = d.StartedAt
		}
	}
	in.mu.Lock()
	in.recorded[app.GetUID()] = through
	in.mu.Unlock()
	return nil
}

// refused reports whether err is the recorder refusing the deployment
// itself, rather than failing to store it.
func refused(err error) bool {
	var apiErr *apierr.Error
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.Code {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition:
		return true
	}
	return false
}

func storeDeployment(d manifest.Deployment) store.Deployment {
	status := store.DeploymentFailed
	if d.Succeeded {
		status = store.DeploymentSucceeded
	}
	return store.Deployment{
		Service: d.Service, Environment: d.Environment, Revision: d.Revision, Status: status,
		StartedAt: d.StartedAt, FinishedAt: d.FinishedAt,
	}
}
