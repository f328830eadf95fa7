package provisioning

import (
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// The overall phases of a service's provisioning.
const (
	PhasePending      = "pending"      // recorded, not yet seen on the cluster
	PhaseProvisioning = "provisioning" // applied, not everything ready
	PhaseReady        = "ready"        // every resource ready, every deployment healthy
	PhaseDegraded     = "degraded"     // was ready, or deployed, and something is unhealthy
	PhaseFailed       = "failed"       // a resource or a sync failed
)

// Snapshot is what the informers hold of one service's objects.
type Snapshot struct {
	Applications []*unstructured.Unstructured
	Claims       []*unstructured.Unstructured
	// Stale is set while the watch on a cluster is broken: its objects
	// are the last ones seen.
	Stale       bool
	ObserveTime time.Time
	// Clusters names the cluster of each object, and StaleClusters says
	// which of them are stale; without them every object is as Stale says.
	Clusters      map[*unstructured.Unstructured]string
	StaleClusters map[string]bool
}

// where is the cluster of obj and whether its view is stale.
func (s Snapshot) where(obj *unstructured.Unstructured) (cluster string, stale bool) {
	cluster, ok := s.Clusters[obj]
	if !ok {
		return "", s.Stale
	}
	return cluster, s.StaleClusters[cluster]
}

// statusOf is the status of a service's provisioning as its objects on the
// cluster tell it, in the shape the Backstage status card reads, on the
// promotion path of settings.
func statusOf(p store.Provisioning, snap Snapshot, settings manifest.Settings) *cairnv1.GetServiceStatusResponse {
	resp := &cairnv1.GetServiceStatusResponse{
		Service:        p.Service,
		Stale:          snap.Stale,
		Deployments:    []*cairnv1.DeploymentStatus{},
		Infrastructure: []*cairnv1.InfrastructureStatus{},
	}
	if !snap.ObserveTime.IsZero() {
		resp.ObserveTime = timestamppb.New(snap.ObserveTime)
	}
	for _, app := range snap.Applications {
		d := deploymentStatus(app)
		d.Cluster, d.Stale = snap.where(app)
		d.AwaitingPromotion = awaitsPromotion(d.Environment, p.Spec, settings)
		resp.Deployments = append(resp.Deployments, d)
	}
	for _, claim := range snap.Claims {
		infra := infrastructureStatus(claim)
		infra.Cluster, infra.Stale = snap.where(claim)
		resp.Infrastructure = append(resp.Infrastructure, infra)
	}
	slices.SortFunc(resp.Deployments, func(a, b *cairnv1.DeploymentStatus) int { return strings.Compare(a.Environment, b.Environment) })
	slices.SortFunc(resp.Infrastructure, func(a, b *cairnv1.InfrastructureStatus) int { return strings.Compare(a.Resource, b.Resource) })
	resp.Phase = phaseOf(p, snap, resp, settings)
	if !p.ReadyTime.IsZero() {
		resp.ProvisioningDuration = durationpb.New(p.ReadyTime.Sub(p.CreateTime))
	}
	return resp
}

func deploymentStatus(app *unstructured.Unstructured) *cairnv1.DeploymentStatus {
	d := &cairnv1.DeploymentStatus{
		Environment:  app.GetLabels()[manifest.LabelEnvironment],
		Application:  app.GetName(),
		SyncStatus:   stringAt(app, "Unknown", "status", "sync", "status"),
		HealthStatus: stringAt(app, "Unknown", "status", "health", "status"),
		Revision:     stringAt(app, "", "status", "sync", "revision"),
	}
	// The newest history entry is the last deployment.
	history, _, _ := unstructured.NestedSlice(app.Object, "status", "history")
	var last time.Time
	for _, h := range history {
		entry, _ := h.(map[string]any)
		deployed, _ := entry["deployedAt"].(string)
		if t, err := time.Parse(time.RFC3339, deployed); err == nil && t.After(last) {
			last = t
		}
	}
	if !last.IsZero() {
		d.LastDeployTime = timestamppb.New(last)
	}
	return d
}

func infrastructureStatus(claim *unstructured.Unstructured) *cairnv1.InfrastructureStatus {
	s := &cairnv1.InfrastructureStatus{Resource: claim.GetName(), Kind: claim.GetKind(), Environment: claim.GetLabels()[manifest.LabelEnvironment]}
	if ready, ok := condition(claim, "Ready"); ok {
		s.Ready = ready["status"] == "True"
		s.Reason, _ = ready["reason"].(string)
		s.Message, _ = ready["message"].(string)
	}
	// A claim Crossplane fails to reconcile says why in its Synced
	// condition; its Ready condition only says that it is not ready.
	if synced, ok := condition(claim, "Synced"); ok && synced["status"] == "False" {
		s.Reason, _ = synced["reason"].(string)
		s.Message, _ = synced["message"].(string)
	}
	return s
}

// phaseOf sums a status up. An environment that syncs on promotion (such
// as production) deploys only when one is approved, so its Application
// that no promotion pointed anywhere yet does not hold the service back
// from ready.
func phaseOf(p store.Provisioning, snap Snapshot, s *cairnv1.GetServiceStatusResponse, settings manifest.Settings) string {
	if len(snap.Applications) == 0 && len(snap.Claims) == 0 {
		return PhasePending
	}
	for _, claim := range snap.Claims {
		if synced, ok := condition(claim, "Synced"); ok && synced["status"] == "False" {
			return PhaseFailed
		}
	}
	for _, app := range snap.Applications {
		if phase := stringAt(app, "", "status", "operationState", "phase"); phase == "Failed" || phase == "Error" {
			return PhaseFailed
		}
	}
	ready := len(snap.Claims) == expectedClaims(p.Spec, settings) && len(snap.Applications) == len(p.Spec.Environments)
	degraded := false
	for _, infra := range s.Infrastructure {
		if !infra.Ready {
			ready = false
			degraded = degraded || !p.ReadyTime.IsZero()
		}
	}
	for _, d := range s.Deployments {
		switch {
		case d.HealthStatus == "Degraded":
			ready, degraded = false, true
		case d.HealthStatus == "Healthy":
		case awaitsPromotion(d.Environment, p.Spec, settings):
		default:
			ready = false
		}
	}
	switch {
	case degraded:
		return PhaseDegraded
	case ready:
		return PhaseReady
	}
	return PhaseProvisioning
}

// expectedClaims is how many claims spec makes on the path of settings: a
// database and a bucket, as asked, in each claim set.
func expectedClaims(spec store.ProvisioningSpec, settings manifest.Settings) int {
	n := 0
	if spec.Database != "" {
		n++
	}
	if spec.Bucket {
		n++
	}
	return n * len(settings.ClaimSets(manifest.Plan{Environments: spec.Environments}))
}

// condition returns the status condition of the given type.
func condition(obj *unstructured.Unstructured, conditionType string) (map[string]any, bool) {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		if cond, ok := c.(map[string]any); ok && cond["type"] == conditionType {
			return cond, true
		}
	}
	return nil, false
}

func stringAt(obj *unstructured.Unstructured, fallback string, fields ...string) string {
	if v, ok, _ := unstructured.NestedString(obj.Object, fields...); ok && v != "" {
		return v
	}
	return fallback
}

// awaitsPromotion says env syncs on promotion and none has pointed it at a
// revision yet.
func awaitsPromotion(env string, spec store.ProvisioningSpec, settings manifest.Settings) bool {
	e, ok := settings.Environment(env)
	return ok && e.Sync == manifest.SyncPromotion && spec.Revision(env) == ""
}
