package manifest

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Deployment is one deployment Argo CD reports on an Application: a
// successful sync from its status.history, or a failed one from its
// status.operationState.
type Deployment struct {
	Service     string
	Environment string
	Revision    string
	Succeeded   bool
	StartedAt   time.Time
	FinishedAt  time.Time
	// HistoryID is the history entry's id; -1 for a failed sync, which
	// Argo CD keeps no history entry of.
	HistoryID int64
}

// DeploymentsOf reads the deployments an Application reports: one per
// status.history entry (each a sync that succeeded, oldest first, as many
// as Argo CD keeps: ten by default), then the last operation if it failed
// for good (phase Failed or Error; a sync Argo CD is still retrying is
// Running). The service and environment come from the labels Cairn puts on
// its Applications; an Application without them reports none, as does an
// entry without a revision or a time.
//
// An entry's start is deployStartedAt, which Argo CD sets to the start of
// the operation that deployed it, so a deployment reported here and by a
// notification (from operationState.startedAt) has the same start; entries
// older Argo CD versions wrote without it start when they finished.
func DeploymentsOf(app *unstructured.Unstructured) []Deployment {
	service, environment := app.GetLabels()[LabelName], app.GetLabels()[LabelEnvironment]
	if service == "" || environment == "" {
		return nil
	}
	var deployments []Deployment
	history, _, _ := unstructured.NestedSlice(app.Object, "status", "history")
	for _, item := range history {
		entry, _ := item.(map[string]any)
		id, ok, _ := unstructured.NestedInt64(entry, "id")
		revision := stringAt(entry, "revision")
		finished := timeAt(entry, "deployedAt")
		if !ok || revision == "" || finished.IsZero() {
			continue
		}
		started := timeAt(entry, "deployStartedAt")
		if started.IsZero() || started.After(finished) {
			started = finished
		}
		deployments = append(deployments, Deployment{
			Service: service, Environment: environment, Revision: revision, Succeeded: true,
			StartedAt: started, FinishedAt: finished, HistoryID: id,
		})
	}
	state, _, _ := unstructured.NestedMap(app.Object, "status", "operationState")
	if phase := stringAt(state, "phase"); phase == "Failed" || phase == "Error" {
		revision := stringAt(state, "syncResult", "revision")
		if revision == "" {
			revision = stringAt(state, "operation", "sync", "revision")
		}
		started, finished := timeAt(state, "startedAt"), timeAt(state, "finishedAt")
		if finished.IsZero() || finished.Before(started) {
			finished = started
		}
		if revision != "" && !started.IsZero() {
			deployments = append(deployments, Deployment{
				Service: service, Environment: environment, Revision: revision,
				StartedAt: started, FinishedAt: finished, HistoryID: -1,
			})
		}
	}
	return deployments
}

func stringAt(obj map[string]any, path ...string) string {
	s, _, _ := unstructured.NestedString(obj, path...)
	return s
}

// timeAt reads an RFC 3339 time, as Kubernetes writes them; zero when it
// is missing or malformed.
func timeAt(obj map[string]any, path ...string) time.Time {
	t, err := time.Parse(time.RFC3339, stringAt(obj, path...))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// ReadySince is the lastTransitionTime of Crossplane's Ready condition when
// its status is True; zero otherwise, or when the time is missing.
func ReadySince(claim *unstructured.Unstructured) time.Time {
	conditions, _, _ := unstructured.NestedSlice(claim.Object, "status", "conditions")
	for _, c := range conditions {
		if cond, ok := c.(map[string]any); ok && cond["type"] == "Ready" {
			if cond["status"] != "True" {
				return time.Time{}
			}
			return timeAt(cond, "lastTransitionTime")
		}
	}
	return time.Time{}
}
