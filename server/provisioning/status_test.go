package provisioning

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

func ordersProvisioning() store.Provisioning {
	return store.Provisioning{
		Service:    "orders-service",
		CreateTime: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		Spec: store.ProvisioningSpec{
			Owner: "team-orders", Team: "team-orders", RepositoryURL: "https://git.example/orders-service.git",
			Database: "postgresql", DatabaseSize: "small", Bucket: true,
			Environments: []string{"staging", "production"},
		},
	}
}

// objectsOf are the objects Cairn applies for p, as the informers would
// hold them, before any controller wrote status.
func objectsOf(p store.Provisioning) (apps, claims []*unstructured.Unstructured) {
	plan := manifest.Plan{Service: p.Service, Team: p.Spec.Team, Namespace: p.Spec.Team, RepositoryURL: p.Spec.RepositoryURL,
		Database: p.Spec.Database, DatabaseSize: p.Spec.DatabaseSize, Bucket: p.Spec.Bucket, Environments: p.Spec.Environments}
	for _, obj := range manifest.Objects(plan, manifest.DefaultSettings()) {
		if obj.GetKind() == manifest.KindApplication {
			apps = append(apps, obj)
		} else {
			claims = append(claims, obj)
		}
	}
	return apps, claims
}

func setConditions(obj *unstructured.Unstructured, conditions ...map[string]any) {
	list := make([]any, 0, len(conditions))
	for _, c := range conditions {
		list = append(list, c)
	}
	_ = unstructured.SetNestedSlice(obj.Object, list, "status", "conditions")
}

func setApp(obj *unstructured.Unstructured, sync, health string) {
	_ = unstructured.SetNestedField(obj.Object, sync, "status", "sync", "status")
	_ = unstructured.SetNestedField(obj.Object, health, "status", "health", "status")
}

func ready(status string) map[string]any {
	return map[string]any{"type": "Ready", "status": status, "reason": "Available", "message": "", "lastTransitionTime": "2026-11-27T10:03:00Z"}
}

func TestPhaseFollowsWhatTheClusterReports(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *store.Provisioning, apps, claims []*unstructured.Unstructured)
		seen   bool
		want   string
	}{
		{name: "nothing on the cluster yet", seen: false, want: PhasePending},
		{name: "applied, no status yet", seen: true, want: PhaseProvisioning},
		{name: "claims ready, staging healthy, production waiting for a promotion", seen: true, want: PhaseReady,
			change: func(_ *store.Provisioning, apps, claims []*unstructured.Unstructured) {
				for _, c := range claims {
					setConditions(c, ready("True"))
				}
				setApp(apps[0], "Synced", "Healthy")
				setApp(apps[1], "OutOfSync", "Missing")
			}},
		{name: "a claim still creating", seen: true, want: PhaseProvisioning,
			change: func(_ *store.Provisioning, apps, claims []*unstructured.Unstructured) {
				setConditions(claims[0], ready("True"))
				setConditions(claims[1], map[string]any{"type": "Ready", "status": "False", "reason": "Creating"})
				setApp(apps[0], "Synced", "Healthy")
			}},
		{name: "a claim Crossplane cannot reconcile", seen: true, want: PhaseFailed,
			change: func(_ *store.Provisioning, _, claims []*unstructured.Unstructured) {
				setConditions(claims[0], map[string]any{"type": "Synced", "status": "False", "reason": "ReconcileError"})
			}},
		{name: "a failed sync", seen: true, want: PhaseFailed,
			change: func(_ *store.Provisioning, apps, _ []*unstructured.Unstructured) {
				_ = unstructured.SetNestedField(apps[0].Object, "Failed", "status", "operationState", "phase")
			}},
		{name: "a degraded deployment", seen: true, want: PhaseDegraded,
			change: func(_ *store.Provisioning, apps, claims []*unstructured.Unstructured) {
				for _, c := range claims {
					setConditions(c, ready("True"))
				}
				setApp(apps[0], "Synced", "Degraded")
			}},
		{name: "a resource lost after it was ready", seen: true, want: PhaseDegraded,
			change: func(p *store.Provisioning, apps, claims []*unstructured.Unstructured) {
				p.ReadyTime = p.CreateTime.Add(5 * time.Minute)
				setConditions(claims[0], ready("False"))
				setConditions(claims[1], ready("True"))
				setApp(apps[0], "Synced", "Healthy")
			}},
		{name: "production promoted but not healthy yet", seen: true, want: PhaseProvisioning,
			change: func(p *store.Provisioning, apps, claims []*unstructured.Unstructured) {
				p.Spec.ProductionRevision = "v1.2.3"
				for _, c := range claims {
					setConditions(c, ready("True"))
				}
				setApp(apps[0], "Synced", "Healthy")
				setApp(apps[1], "OutOfSync", "Progressing")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ordersProvisioning()
			apps, claims := objectsOf(p)
			if tt.change != nil {
				tt.change(&p, apps, claims)
			}
			snap := Snapshot{}
			if tt.seen {
				snap = Snapshot{Applications: apps, Claims: claims}
			}
			require.Equal(t, tt.want, statusOf(p, snap, manifest.DefaultSettings()).GetPhase())
		})
	}
}

func TestStatusCarriesArgoCDsAndCrossplanesOwnWords(t *testing.T) {
	p := ordersProvisioning()
	p.ReadyTime = p.CreateTime.Add(3 * time.Minute)
	apps, claims := objectsOf(p)
	setApp(apps[0], "Synced", "Healthy")
	_ = unstructured.SetNestedField(apps[0].Object, "abc123", "status", "sync", "revision")
	_ = unstructured.SetNestedSlice(apps[0].Object, []any{
		map[string]any{"id": int64(1), "revision": "abc122", "deployedAt": "2026-11-27T10:01:00Z"},
		map[string]any{"id": int64(2), "revision": "abc123", "deployedAt": "2026-11-27T10:02:00Z"},
	}, "status", "history")
	setConditions(claims[0], map[string]any{"type": "Ready", "status": "False", "reason": "Creating", "message": "waiting for RDS"})

	s := statusOf(p, Snapshot{Applications: apps, Claims: claims, Stale: true}, manifest.DefaultSettings())
	require.Equal(t, "orders-service", s.GetService())
	require.True(t, s.GetStale())
	require.Len(t, s.GetDeployments(), 2)
	production, staging := s.GetDeployments()[0], s.GetDeployments()[1]
	require.Equal(t, "production", production.GetEnvironment())
	require.Equal(t, "Unknown", production.GetSyncStatus())
	require.Equal(t, "Unknown", production.GetHealthStatus())
	require.Equal(t, "staging", staging.GetEnvironment())
	require.Equal(t, "orders-service-staging", staging.GetApplication())
	require.Equal(t, "abc123", staging.GetRevision())
	require.Equal(t, "2026-11-27T10:02:00Z", staging.GetLastDeployTime().AsTime().Format(time.RFC3339))

	require.Len(t, s.GetInfrastructure(), 2)
	bucket, db := s.GetInfrastructure()[0], s.GetInfrastructure()[1]
	require.Equal(t, "orders-service-bucket", bucket.GetResource())
	require.Equal(t, "orders-service-db", db.GetResource())
	require.Equal(t, "DatabaseClaim", db.GetKind())
	require.False(t, db.GetReady())
	require.Equal(t, "Creating", db.GetReason())
	require.Equal(t, "waiting for RDS", db.GetMessage())
	require.Equal(t, 3*time.Minute, s.GetProvisioningDuration().AsDuration())
}

func TestStatusOfAClaimCrossplaneFailedToReconcileSaysWhy(t *testing.T) {
	p := ordersProvisioning()
	apps, claims := objectsOf(p)
	setConditions(claims[0],
		map[string]any{"type": "Ready", "status": "False", "reason": "Creating", "message": ""},
		map[string]any{"type": "Synced", "status": "False", "reason": "ReconcileError", "message": "cannot create RDS instance: quota exceeded"})

	s := statusOf(p, Snapshot{Applications: apps, Claims: claims}, manifest.DefaultSettings())
	db := s.GetInfrastructure()[1]
	require.Equal(t, "orders-service-db", db.GetResource())
	require.False(t, db.GetReady())
	require.Equal(t, "ReconcileError", db.GetReason())
	require.Equal(t, "cannot create RDS instance: quota exceeded", db.GetMessage())
	require.Equal(t, PhaseFailed, s.GetPhase())
}
