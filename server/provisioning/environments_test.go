package provisioning

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// threeStagePath is dev, then staging, then production.
func threeStagePath() manifest.Settings {
	s := manifest.DefaultSettings()
	s.Environments = []manifest.Environment{
		{Name: "dev"},
		{Name: "staging", Promotion: &manifest.Promotion{From: "dev"}},
		{Name: "production", Sync: manifest.SyncPromotion, Promotion: &manifest.Promotion{From: "staging", Approval: true}},
	}
	return s
}

func createRequest(environments ...string) Request {
	return Request{Name: "orders-service", Owner: "team-orders", RepositoryURL: "https://git.example/orders-service.git",
		Environments: environments}
}

func TestSpecOfTakesTheEnvironmentsOfThePath(t *testing.T) {
	spec, err := SpecOf(createRequest("production", "dev"), entityref.Teams{}, threeStagePath())
	require.NoError(t, err)
	require.Equal(t, []string{"production", "dev"}, spec.Environments)

	spec, err = SpecOf(createRequest(), entityref.Teams{}, threeStagePath())
	require.NoError(t, err)
	require.Equal(t, []string{"dev"}, spec.Environments, "none means the first of the path")
	spec, err = SpecOf(createRequest(), entityref.Teams{}, manifest.DefaultSettings())
	require.NoError(t, err)
	require.Equal(t, []string{"staging"}, spec.Environments, "the default path starts at staging, as before")
}

func TestSpecOfRefusesAnEnvironmentOffThePathNamingThePath(t *testing.T) {
	for _, tt := range []struct {
		settings manifest.Settings
		env      string
		want     string
	}{
		{threeStagePath(), "qa", `environment "qa" is not configured: want one of dev, staging, production`},
		{manifest.DefaultSettings(), "dev", `environment "dev" is not configured: want one of staging, production`},
	} {
		_, err := SpecOf(createRequest("staging", tt.env), entityref.Teams{}, tt.settings)
		var invalid *apierr.Error
		require.ErrorAs(t, err, &invalid)
		require.Equal(t, codes.InvalidArgument, invalid.Code)
		require.Equal(t, []apierr.FieldViolation{{Field: "environments", Description: tt.want}}, invalid.Violations)
	}
}

// A production with claims of its own gets a database of its own, in its
// namespace (made where its claims go), beside the one dev and staging
// share; the service is ready only when both are.
func TestAnEnvironmentWithClaimsOfItsOwnIsProvisionedAndReadyWithThem(t *testing.T) {
	settings := threeStagePath()
	settings.Environments[2].Claims = &manifest.Claims{Cluster: "prod", Namespace: "{team}-production"}
	r := createRequest("dev", "staging", "production")
	r.Database = "postgresql"
	h := newHarnessOf(t, settings, r)

	require.Equal(t, []string{"team-orders/team-orders", "production:team-orders-production/team-orders"}, h.cluster.namespaces)
	shared, own := "DatabaseClaim/team-orders/orders-service-db", "DatabaseClaim/team-orders-production/orders-service-production-db"
	require.NotNil(t, h.cluster.object(shared))
	require.Equal(t, "production", h.cluster.object(own).GetLabels()[manifest.LabelEnvironment])

	for _, env := range []string{"dev", "staging"} {
		h.cluster.update("Application/argocd/"+manifest.ApplicationName("orders-service", env), func(app *unstructured.Unstructured) {
			setApp(app, "Synced", "Healthy")
		})
	}
	phase := func() string {
		prov, snap, err := h.p.Status(t.Context(), "orders-service")
		require.NoError(t, err)
		status := statusOf(prov, snap, settings)
		return status.Phase
	}
	h.cluster.update(shared, func(claim *unstructured.Unstructured) { setConditions(claim, ready("True")) })
	require.Equal(t, PhaseProvisioning, phase(), "production's database is not ready yet")
	h.cluster.update(own, func(claim *unstructured.Unstructured) { setConditions(claim, ready("True")) })
	require.Equal(t, PhaseReady, phase())

	prov, snap, err := h.p.Status(t.Context(), "orders-service")
	require.NoError(t, err)
	var environments []string
	for _, infra := range statusOf(prov, snap, settings).Infrastructure {
		environments = append(environments, infra.Resource+"="+infra.Environment)
	}
	require.Equal(t, []string{"orders-service-db=", "orders-service-production-db=production"}, environments)
}

func TestFailureAlertsTellAFailedProvisioningOncePerGeneration(t *testing.T) {
	r := createRequest("staging")
	r.Database = "postgresql"
	h := newHarnessOf(t, threeStagePath(), r)
	alerts := h.p.FailureAlerts()
	events, err := alerts.Events(t.Context())
	require.NoError(t, err)
	require.Empty(t, events, "nothing failed yet")

	h.cluster.update("DatabaseClaim/team-orders/orders-service-db", func(claim *unstructured.Unstructured) {
		setConditions(claim, map[string]any{"type": "Synced", "status": "False", "reason": "ReconcileError",
			"message": "cannot create RDS instance: quota exceeded"})
	})
	events, err = alerts.Events(t.Context())
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "provisioning/orders-service/1/failed", events[0].Key)
	require.Equal(t, "team-orders", events[0].Team)
	require.Equal(t, "team-orders", events[0].Recipient)
	require.Equal(t, "The provisioning of orders-service failed: DatabaseClaim orders-service-db: ReconcileError cannot create RDS instance: quota exceeded.",
		events[0].Text)
}

func TestFailureAlertsTellAPromotionsFailedSync(t *testing.T) {
	h := newPromotionHarness(t, checkedPath(), "dev", "staging", "production")
	h.runs(t, "staging", "4e5f6a7")
	promotion, err := h.p.RequestPromotion(as("user:default/dev", auth.RoleDeveloper),
		PromotionRequest{Service: "orders-service", Environment: "production", Revision: "4e5f6a7"})
	require.NoError(t, err)
	_, err = h.p.Decide(as("user:default/lead", auth.RoleApprover), "orders-service", promotion.ID, true, "")
	require.NoError(t, err)
	h.cluster.update("Application/argocd/orders-service-production", func(app *unstructured.Unstructured) {
		app.Object["status"] = map[string]any{"operationState": map[string]any{
			"phase": "Failed", "message": "one or more objects failed to apply", "syncResult": map[string]any{"revision": "4e5f6a7"},
		}}
	})
	events, err := h.p.FailureAlerts().Events(t.Context())
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "sync_failed", events[0].Kind)
	require.Equal(t, "provisioning/orders-service/2/failed", events[0].Key, "keyed by the spec the promotion made")
	require.Equal(t, "A sync of orders-service failed: the sync of production to 4e5f6a7 failed: one or more objects failed to apply.", events[0].Text)
}
