package kubetest

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// The status the controllers write, in their own words.
//
// Crossplane (crossplane-runtime's xpv1.Condition, as a claim's
// status.conditions): Synced is True with reason ReconcileSuccess, or
// False with ReconcileError and the error as message; Ready is True with
// Available, or False with Creating (also Unavailable, Deleting). A
// condition's lastTransitionTime moves only when it changes.
//
// Argo CD (its Application's status): sync {status: Synced|OutOfSync,
// revision}, health {status: Healthy|Progressing|Degraded|Missing|...,
// message}, history [{id, revision, deployedAt, deployStartedAt, source,
// initiatedBy}] oldest first, operationState {operation, phase:
// Running|Succeeded|Failed|Error, message, startedAt, finishedAt,
// syncResult {revision, source}}. Times are RFC 3339 to the second, UTC.
const (
	crossplaneManager = "crossplane"
	argoCDManager     = "argocd-application-controller"

	// argoCDSyncedMessage is Argo CD's message for a sync that succeeded.
	argoCDSyncedMessage = "successfully synced (all tasks run)"
	// argoCDHistoryLimit is how many history entries Argo CD keeps when the
	// Application's spec.revisionHistoryLimit does not say.
	argoCDHistoryLimit = 10
)

// Claims: MarkClaimReady, MarkClaimCreating and MarkClaimFailed take the
// claim as manifest.Objects, manifest.DatabaseClaim or manifest.BucketClaim builds it,
// or as read from the API server: only its apiVersion, kind, namespace and
// name count.

// MarkClaimReady writes what Crossplane writes once a claim's composite
// resource and all it is made of are ready: Synced=True ReconcileSuccess,
// Ready=True Available, the time the connection details were published,
// and the fields deploy/crossplane's compositions copy up: endpoint, port
// and secretName for a DatabaseClaim ({name}.{namespace}.rds.example.com,
// the engine's usual port, {name}-connection), bucketName
// ({namespace}-{name}) and arn for a BucketClaim. (Crossplane would also write the
// connection Secret; Cairn does not read it, and kubetest does not make
// it.)
func (e *Env) MarkClaimReady(tb testing.TB, claim *unstructured.Unstructured) {
	tb.Helper()
	e.updateClaim(tb, claim, func(obj *unstructured.Unstructured, now string) error {
		setCondition(obj, condition("Synced", "True", "ReconcileSuccess", "", now))
		setCondition(obj, condition("Ready", "True", "Available", "", now))
		status := obj.Object["status"].(map[string]any)
		status["connectionDetails"] = map[string]any{"lastPublishedTime": now}
		name, namespace := obj.GetName(), obj.GetNamespace()
		switch obj.GetKind() {
		case manifest.KindDatabaseClaim:
			engine, _, _ := unstructured.NestedString(obj.Object, "spec", "engine")
			status["endpoint"] = fmt.Sprintf("%s.%s.rds.example.com", name, namespace)
			status["port"] = databasePorts[engine]
			status["secretName"] = manifest.ConnectionSecretName(name)
		case manifest.KindBucketClaim:
			bucket := namespace + "-" + name
			status["bucketName"] = bucket
			status["arn"] = "arn:aws:s3:::" + bucket
		}
		return nil
	})
}

// databasePorts are the engines' usual ports.
var databasePorts = map[string]any{
	"postgresql": int64(5432),
	"mysql":      int64(3306),
	"redis":      int64(6379),
	"mongodb":    int64(27017),
}

// MarkClaimCreating writes what Crossplane writes while a claim's cloud
// resources are being made: Synced=True ReconcileSuccess, Ready=False
// Creating.
func (e *Env) MarkClaimCreating(tb testing.TB, claim *unstructured.Unstructured) {
	tb.Helper()
	e.updateClaim(tb, claim, func(obj *unstructured.Unstructured, now string) error {
		setCondition(obj, condition("Synced", "True", "ReconcileSuccess", "", now))
		setCondition(obj, condition("Ready", "False", "Creating", "", now))
		return nil
	})
}

// MarkClaimFailed writes what Crossplane writes when it cannot reconcile a
// claim (no composition for its engine, a provider refusing a field):
// Synced=False ReconcileError with message, the error. Ready is left as it
// was: absent on a claim that never got further.
func (e *Env) MarkClaimFailed(tb testing.TB, claim *unstructured.Unstructured, message string) {
	tb.Helper()
	e.updateClaim(tb, claim, func(obj *unstructured.Unstructured, now string) error {
		setCondition(obj, condition("Synced", "False", "ReconcileError", message, now))
		return nil
	})
}

func (e *Env) updateClaim(tb testing.TB, claim *unstructured.Unstructured, change func(obj *unstructured.Unstructured, now string) error) {
	tb.Helper()
	kind := e.kindOf(tb, claim)
	if !kind.Claim {
		tb.Fatalf("kubetest: %s %s/%s is not a claim", kind.Kind, claim.GetNamespace(), claim.GetName())
	}
	e.updateStatus(tb, kind, claim.GetNamespace(), claim.GetName(), crossplaneManager, change)
}

// condition is a Crossplane condition; observedGeneration is set by
// setCondition.
func condition(conditionType, status, reason, message, now string) map[string]any {
	c := map[string]any{
		"type":               conditionType,
		"status":             status,
		"reason":             reason,
		"lastTransitionTime": now,
	}
	if message != "" {
		c["message"] = message
	}
	return c
}

// setCondition sets a condition as crossplane-runtime's SetConditions does:
// it replaces the condition of the same type, unless that one says the same
// thing, whose lastTransitionTime then stays; a new type goes last. Each
// condition observed the object's current generation.
func setCondition(obj *unstructured.Unstructured, c map[string]any) {
	c["observedGeneration"] = obj.GetGeneration()
	status, _ := obj.Object["status"].(map[string]any)
	conditions, _ := status["conditions"].([]any)
	for i, old := range conditions {
		old, _ := old.(map[string]any)
		if old["type"] != c["type"] {
			continue
		}
		same := true
		for _, field := range []string{"status", "reason", "message", "observedGeneration"} {
			same = same && fmt.Sprint(old[field]) == fmt.Sprint(c[field])
		}
		if !same {
			conditions[i] = c
		}
		status["conditions"] = conditions
		return
	}
	status["conditions"] = append(conditions, c)
}

// Applications: the methods take the Application's name, in the Argo CD
// namespace.

// MarkApplicationSynced writes what Argo CD writes when a sync of revision
// succeeds: sync Synced at revision, health Healthy, a history entry (the
// next id, deployedAt now, the Application's source) and operationState
// Succeeded. If the Application has a requested operation (see
// ApplicationOperation), that is the sync that ran: it must be for
// revision, and it is cleared; otherwise the sync was an automated one.
func (e *Env) MarkApplicationSynced(tb testing.TB, name, revision string) {
	tb.Helper()
	e.finishSync(tb, name, revision, "", false)
}

// CompleteOperation does what Argo CD does when it runs the operation an
// Application has (Cairn's RequestSync): the sync succeeds, as in
// MarkApplicationSynced, at the operation's revision (the Application's
// target revision if the operation names none), and the operation is
// cleared. It fails tb if there is no operation.
func (e *Env) CompleteOperation(tb testing.TB, name string) {
	tb.Helper()
	e.finishSync(tb, name, "", "", true)
}

// FailApplicationSync writes what Argo CD writes when a sync of revision
// fails for good (its retries spent): operationState Failed with message,
// and sync OutOfSync at revision; no history entry, and health as it was.
// A requested operation is cleared, as in MarkApplicationSynced.
func (e *Env) FailApplicationSync(tb testing.TB, name, revision, message string) {
	tb.Helper()
	if message == "" {
		message = "one or more objects failed to apply"
	}
	e.finishSync(tb, name, revision, message, false)
}

// MarkApplicationOutOfSync writes what Argo CD writes when the
// Application's source at revision differs from what is deployed (a new
// Application, a new commit before an automated sync, production before a
// promotion): sync OutOfSync at revision, and health Missing if nothing was
// ever deployed.
func (e *Env) MarkApplicationOutOfSync(tb testing.TB, name, revision string) {
	tb.Helper()
	e.updateApplication(tb, name, func(app *unstructured.Unstructured, now string) error {
		status := app.Object["status"].(map[string]any)
		status["sync"] = syncStatus(app, "OutOfSync", revision)
		if history, _ := status["history"].([]any); len(history) == 0 {
			status["health"] = map[string]any{"status": "Missing"}
		}
		status["reconciledAt"] = now
		return nil
	})
}

// MarkApplicationHealthy, MarkApplicationProgressing and
// MarkApplicationDegraded write the health Argo CD reports of what an
// Application deployed: Healthy; Progressing (a rollout under way);
// Degraded with message (a rollout that failed, pods crash-looping).
func (e *Env) MarkApplicationHealthy(tb testing.TB, name string) {
	tb.Helper()
	e.setHealth(tb, name, "Healthy", "")
}

// MarkApplicationProgressing: see MarkApplicationHealthy.
func (e *Env) MarkApplicationProgressing(tb testing.TB, name string) {
	tb.Helper()
	e.setHealth(tb, name, "Progressing", "")
}

// MarkApplicationDegraded: see MarkApplicationHealthy.
func (e *Env) MarkApplicationDegraded(tb testing.TB, name, message string) {
	tb.Helper()
	e.setHealth(tb, name, "Degraded", message)
}

func (e *Env) setHealth(tb testing.TB, name, health, message string) {
	tb.Helper()
	e.updateApplication(tb, name, func(app *unstructured.Unstructured, now string) error {
		status := app.Object["status"].(map[string]any)
		h := map[string]any{"status": health}
		if message != "" {
			h["message"] = message
		}
		status["health"] = h
		status["reconciledAt"] = now
		return nil
	})
}

// ApplicationOperation returns the operation field of an Application: what
// Cairn's RequestSync wrote, such as {initiatedBy: {username: ...}, sync:
// {revision: ...}}, which Argo CD has not run yet; nil if there is none.
func (e *Env) ApplicationOperation(tb testing.TB, name string) map[string]any {
	tb.Helper()
	app := e.Application(tb, name)
	if app == nil {
		tb.Fatalf("kubetest: no Application %s/%s", e.settings.ArgoCDNamespace, name)
	}
	op, _, _ := unstructured.NestedMap(app.Object, "operation")
	return op
}

// finishSync records the end of a sync of revision on an Application: a
// success if failMessage is empty. A pending operation is the sync that
// ran; requireOperation says there must be one, and an empty revision
// means the operation's.
func (e *Env) finishSync(tb testing.TB, name, revision, failMessage string, requireOperation bool) {
	tb.Helper()
	var ranOperation bool
	e.updateApplication(tb, name, func(app *unstructured.Unstructured, now string) error {
		op, hasOp, _ := unstructured.NestedMap(app.Object, "operation")
		if requireOperation && !hasOp {
			return fmt.Errorf("no operation to run on Application %s", name)
		}
		ranOperation = hasOp
		source, _, _ := unstructured.NestedMap(app.Object, "spec", "source")
		if hasOp {
			opRevision, _, _ := unstructured.NestedString(op, "sync", "revision")
			if opRevision == "" {
				opRevision, _, _ = unstructured.NestedString(source, "targetRevision")
			}
			switch {
			case revision == "":
				revision = opRevision
			case revision != opRevision:
				return fmt.Errorf("the operation on Application %s syncs %q, not %q: "+
					"complete it first (CompleteOperation)", name, opRevision, revision)
			}
		} else {
			// An automated sync, as Argo CD starts it.
			op = map[string]any{
				"sync":        map[string]any{"revision": revision},
				"initiatedBy": map[string]any{"automated": true},
			}
			if retryPolicy, ok, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "retry"); ok {
				op["retry"] = retryPolicy
			}
		}

		status := app.Object["status"].(map[string]any)
		state := map[string]any{
			"operation":  op,
			"phase":      "Succeeded",
			"message":    argoCDSyncedMessage,
			"startedAt":  now,
			"finishedAt": now,
			"syncResult": map[string]any{"revision": revision, "source": runtime.DeepCopyJSONValue(source)},
		}
		if failMessage != "" {
			state["phase"], state["message"] = "Failed", failMessage
			status["sync"] = syncStatus(app, "OutOfSync", revision)
		} else {
			status["sync"] = syncStatus(app, "Synced", revision)
			status["health"] = map[string]any{"status": "Healthy"}
			status["history"] = appendHistory(app, map[string]any{
				"revision":        revision,
				"deployedAt":      now,
				"deployStartedAt": now,
				"source":          runtime.DeepCopyJSONValue(source),
				"initiatedBy":     runtime.DeepCopyJSONValue(op["initiatedBy"]),
			})
		}
		status["operationState"] = state
		status["reconciledAt"] = now
		return nil
	})
	if ranOperation {
		// Argo CD clears the operation in the same write as it records the
		// operation's end; with a status subresource that takes two writes,
		// and the end is recorded first.
		e.patchApplication(tb, name, `{"operation":null}`)
	}
}

// syncStatus is an Application's status.sync: status at revision, compared
// to the Application's source and destination.
func syncStatus(app *unstructured.Unstructured, status, revision string) map[string]any {
	source, _, _ := unstructured.NestedMap(app.Object, "spec", "source")
	destination, _, _ := unstructured.NestedMap(app.Object, "spec", "destination")
	return map[string]any{
		"status":     status,
		"revision":   revision,
		"comparedTo": map[string]any{"source": source, "destination": destination},
	}
}

// appendHistory appends entry to an Application's history with the next id,
// keeping the newest entries up to the history limit, as Argo CD does.
func appendHistory(app *unstructured.Unstructured, entry map[string]any) []any {
	history, _, _ := unstructured.NestedSlice(app.Object, "status", "history")
	var id int64
	if n := len(history); n > 0 {
		last, _ := history[n-1].(map[string]any)
		lastID, _ := last["id"].(int64)
		id = lastID + 1
	}
	entry["id"] = id
	history = append(history, entry)
	limit, ok, _ := unstructured.NestedInt64(app.Object, "spec", "revisionHistoryLimit")
	if !ok {
		limit = argoCDHistoryLimit
	}
	return history[max(0, int64(len(history))-limit):]
}

func (e *Env) updateApplication(tb testing.TB, name string, change func(app *unstructured.Unstructured, now string) error) {
	tb.Helper()
	e.updateStatus(tb, manifest.ApplicationKind, e.settings.ArgoCDNamespace, name, argoCDManager, change)
}

func (e *Env) patchApplication(tb testing.TB, name, patch string) {
	tb.Helper()
	ctx, cancel := requestContext()
	defer cancel()
	_, err := e.client.Resource(manifest.ApplicationKind.GroupVersionResource()).Namespace(e.settings.ArgoCDNamespace).
		Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: argoCDManager})
	if err != nil {
		tb.Fatalf("kubetest: patch Application %s/%s: %v", e.settings.ArgoCDNamespace, name, err)
	}
}

// updateStatus reads an object, changes its status and writes it back
// through the status subresource as manager, as a controller does, again
// if someone else wrote the object in between.
func (e *Env) updateStatus(tb testing.TB, kind manifest.Kind, namespace, name, manager string, change func(obj *unstructured.Unstructured, now string) error) {
	tb.Helper()
	ctx, cancel := requestContext()
	defer cancel()
	resource := e.client.Resource(kind.GroupVersionResource()).Namespace(namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := resource.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if _, ok := obj.Object["status"].(map[string]any); !ok {
			obj.Object["status"] = map[string]any{}
		}
		if err := change(obj, now()); err != nil {
			return err
		}
		_, err = resource.UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: manager})
		return err
	})
	if err != nil {
		tb.Fatalf("kubetest: status of %s %s/%s: %v", kind.Kind, namespace, name, err)
	}
}

// now is the time as Kubernetes and Argo CD write it: RFC 3339, to the
// second, in UTC.
func now() string { return time.Now().UTC().Format(time.RFC3339) }
