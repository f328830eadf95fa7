package provisioning

// Promotions along a configured path, on a real SQLite store and the
// in-memory cluster of fakes_test.go, whose Applications report what Argo
// CD would: the revision each environment runs and its history.

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/audit"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// checkedPath is dev, staging and production: staging takes any revision
// from dev without an approver; production takes only what staging runs,
// and waits for an approver.
func checkedPath() manifest.Settings {
	s := manifest.DefaultSettings()
	s.Environments = []manifest.Environment{
		{Name: "dev"},
		{Name: "staging", Sync: manifest.SyncPromotion, Promotion: &manifest.Promotion{From: "dev"}},
		{Name: "production", Sync: manifest.SyncPromotion, Revision: "release",
			Promotion: &manifest.Promotion{From: "staging", Approval: true, RequireRunning: true}},
	}
	return s
}

type promotionHarness struct {
	p       *Provisioner
	store   store.Store
	cluster *fakeCluster
}

func newPromotionHarness(t *testing.T, settings manifest.Settings, environments ...string) *promotionHarness {
	t.Helper()
	return newHarnessOf(t, settings, Request{Environments: environments})
}

// newHarnessOf is a harness whose orders-service, of team-orders, a
// developer created as r asks, and the reconciler applied.
func newHarnessOf(t *testing.T, settings manifest.Settings, r Request) *promotionHarness {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(t.Context()))
	h := &promotionHarness{store: st, cluster: newFakeCluster()}
	h.p = New(st, h.cluster, settings, entityref.Teams{}, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	r.Name, r.Owner, r.RepositoryURL = "orders-service", "team-orders", "https://git.example/orders-service.git"
	_, err = h.p.Create(as("user:default/dev", auth.RoleDeveloper), r)
	require.NoError(t, err)
	require.True(t, h.p.reconcileAll(t.Context(), false))
	return h
}

// as is a context of a member of team-orders with role, in a call whose
// audit detail audit.DetailOf reads.
func as(name string, role auth.Role) context.Context {
	return audit.WithDetail(auth.NewContext(context.Background(), &auth.Principal{Name: name, Roles: []auth.Role{role}, Teams: []string{"team-orders"}}))
}

// runs makes env's Application report revision as synced, with the
// revisions it ran before in its history, oldest first.
func (h *promotionHarness) runs(t *testing.T, env, revision string, before ...string) {
	t.Helper()
	history := []any{}
	for i, r := range append(before, revision) {
		history = append(history, map[string]any{
			"id": int64(i), "revision": r, "deployedAt": time.Date(2026, 12, 1, i, 0, 0, 0, time.UTC).Format(time.RFC3339),
		})
	}
	h.cluster.update("Application/argocd/"+manifest.ApplicationName("orders-service", env), func(app *unstructured.Unstructured) {
		app.Object["status"] = map[string]any{"sync": map[string]any{"status": "Synced", "revision": revision}, "history": history}
	})
}

// targetRevision is what env's Application on the cluster deploys.
func (h *promotionHarness) targetRevision(env string) string {
	app := h.cluster.object("Application/argocd/" + manifest.ApplicationName("orders-service", env))
	return stringAt(app, "", "spec", "source", "targetRevision")
}

func requireRefused(t *testing.T, err error, code codes.Code, reason string) *apierr.Error {
	t.Helper()
	var e *apierr.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, code, e.Code, e.Message)
	require.Equal(t, reason, e.Reason, e.Message)
	return e
}

func TestPromotionOnTheDefaultPathGoesToProductionAndWaitsForAnApprover(t *testing.T) {
	h := newPromotionHarness(t, manifest.DefaultSettings(), "staging", "production")
	promotion, err := h.p.RequestPromotion(as("user:default/dev", auth.RoleDeveloper), PromotionRequest{Service: "orders-service", Revision: "v1.0.0"})
	require.NoError(t, err)
	require.Equal(t, "production", promotion.Environment)
	require.Equal(t, StatePending, promotion.State, "production needs an approver")
	require.False(t, promotion.Rollback)

	decided, err := h.p.Decide(as("user:default/lead", auth.RoleApprover), "orders-service", promotion.ID, true, "")
	require.NoError(t, err)
	require.Equal(t, StateApproved, decided.State)
	require.Equal(t, "v1.0.0", h.targetRevision("production"))
	prov, err := h.store.GetProvisioning(t.Context(), "orders-service")
	require.NoError(t, err)
	require.Equal(t, "v1.0.0", prov.Spec.ProductionRevision, "kept where earlier replicas read it")
	require.Equal(t, map[string]string{"production": "v1.0.0"}, prov.Spec.Revisions)
}

func TestPromotionWithoutAnApproverIsSyncedAtOnceInTheRequestersName(t *testing.T) {
	h := newPromotionHarness(t, checkedPath(), "dev", "staging", "production")
	developer := as("user:default/dev", auth.RoleDeveloper)
	promotion, err := h.p.RequestPromotion(developer,
		PromotionRequest{Service: "orders-service", Environment: "staging", Revision: "4e5f6a7"})
	require.NoError(t, err)
	require.Equal(t, "promotion of 4e5f6a7 into staging; staging runs nothing yet; approved at once: staging needs no approver",
		audit.DetailOf(developer))
	require.Equal(t, StateApproved, promotion.State)
	require.Equal(t, "user:default/dev", promotion.Decider)
	require.Equal(t, "staging needs no approver", promotion.Reason)
	require.Equal(t, "4e5f6a7", h.targetRevision("staging"))
	_, _, syncs := h.cluster.calls()
	require.Equal(t, []string{"argocd/orders-service-staging@4e5f6a7"}, syncs)
}

func TestPromotionThatSkipsAnEnvironmentIsRefusedNamingThePath(t *testing.T) {
	h := newPromotionHarness(t, checkedPath(), "dev", "staging", "production")
	h.runs(t, "dev", "9a8b7c6")
	h.runs(t, "staging", "4e5f6a7")
	developer := as("user:default/dev", auth.RoleDeveloper)

	_, err := h.p.RequestPromotion(developer, PromotionRequest{Service: "orders-service", Environment: "production", Revision: "9a8b7c6"})
	e := requireRefused(t, err, codes.FailedPrecondition, "PROMOTION_SKIPS_ENVIRONMENT")
	require.Equal(t, "9a8b7c6 is not running in staging (it runs 4e5f6a7): a promotion into production takes what staging runs; the path is dev -> staging -> production", e.Message)
	promotions, err := h.store.ListPromotions(t.Context(), "orders-service", 0, 10)
	require.NoError(t, err)
	require.Empty(t, promotions, "a refused request records nothing")

	promotion, err := h.p.RequestPromotion(developer, PromotionRequest{Service: "orders-service", Environment: "production", Revision: "4e5f6a7"})
	require.NoError(t, err)
	require.Equal(t, StatePending, promotion.State)
}

func TestPromotionForcedPastTheEnvironmentBeforeNeedsAnAdmin(t *testing.T) {
	h := newPromotionHarness(t, checkedPath(), "dev", "staging", "production")
	h.runs(t, "staging", "4e5f6a7")
	request := PromotionRequest{Service: "orders-service", Environment: "production", Revision: "hotfix-1", Force: true}

	_, err := h.p.RequestPromotion(as("user:default/dev", auth.RoleDeveloper), request)
	requireRefused(t, err, codes.PermissionDenied, "FORCE_NEEDS_ADMIN")
	admin := as("user:default/admin", auth.RoleAdmin)
	promotion, err := h.p.RequestPromotion(admin, request)
	require.NoError(t, err)
	require.Equal(t, StatePending, promotion.State, "forced past staging, production still waits for an approver")
	require.Equal(t, "promotion of hotfix-1 into production; production runs nothing yet; forced past staging, where staging runs 4e5f6a7; waits for an approver",
		audit.DetailOf(admin), "the audit event says the admin forced it")
}

func TestPromotionToARevisionTheEnvironmentRanBeforeIsARollback(t *testing.T) {
	h := newPromotionHarness(t, checkedPath(), "dev", "staging", "production")
	h.runs(t, "staging", "5d6e7f8")
	h.runs(t, "production", "5d6e7f8", "1a2b3c4", "3c4d5e6")

	requester := as("user:default/dev", auth.RoleDeveloper)
	promotion, err := h.p.RequestPromotion(requester,
		PromotionRequest{Service: "orders-service", Environment: "production", Revision: "3c4d5e6"})
	require.NoError(t, err, "a rollback is not held to what staging runs")
	require.True(t, promotion.Rollback)
	require.Equal(t, StatePending, promotion.State, "a rollback of production waits for an approver too")
	require.Equal(t, "rollback of production to 3c4d5e6, a revision it ran before; production runs 5d6e7f8; waits for an approver",
		audit.DetailOf(requester), "the request is audited as a rollback")

	again, err := h.p.RequestPromotion(as("user:default/dev", auth.RoleDeveloper),
		PromotionRequest{Service: "orders-service", Environment: "production", Revision: "5d6e7f8"})
	require.NoError(t, err)
	require.False(t, again.Rollback, "what production runs now is no rollback")

	approver := as("user:default/lead", auth.RoleApprover)
	_, err = h.p.Decide(approver, "orders-service", promotion.ID, true, "")
	require.NoError(t, err)
	require.Equal(t, "approved the rollback of production to 3c4d5e6, a revision it ran before", audit.DetailOf(approver),
		"so is its approval")
	require.Equal(t, "3c4d5e6", h.targetRevision("production"))

}

func TestPromotionNamesItsEnvironmentWhereTheServiceHasSeveral(t *testing.T) {
	h := newPromotionHarness(t, checkedPath(), "dev", "staging", "production")
	developer := as("user:default/dev", auth.RoleDeveloper)

	_, err := h.p.RequestPromotion(developer, PromotionRequest{Service: "orders-service", Revision: "v1"})
	e := requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	require.Equal(t, []apierr.FieldViolation{{Field: "promotion.environment",
		Description: "name the environment to promote into: one of staging, production"}}, e.Violations)

	_, err = h.p.RequestPromotion(developer, PromotionRequest{Service: "orders-service", Environment: "dev", Revision: "v1"})
	e = requireRefused(t, err, codes.FailedPrecondition, "ENVIRONMENT_TAKES_NO_PROMOTIONS")
	require.Equal(t, "dev takes no promotions: it deploys main as it changes; the path is dev -> staging -> production", e.Message)

	_, err = h.p.RequestPromotion(developer, PromotionRequest{Service: "orders-service", Environment: "qa", Revision: "v1"})
	e = requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	require.Equal(t, `environment "qa" is not configured: the path is dev -> staging -> production`, e.Violations[0].Description)
}

func TestPromotionIntoAnEnvironmentTheServiceDoesNotDeployToIsRefused(t *testing.T) {
	h := newPromotionHarness(t, checkedPath(), "dev", "staging")
	_, err := h.p.RequestPromotion(as("user:default/dev", auth.RoleDeveloper),
		PromotionRequest{Service: "orders-service", Environment: "production", Revision: "v1"})
	requireRefused(t, err, codes.FailedPrecondition, "NOT_DEPLOYED_TO_ENVIRONMENT")
}

func TestMayDecideFollowsTheRulesOfDecide(t *testing.T) {
	h := newPromotionHarness(t, manifest.DefaultSettings(), "staging", "production")
	requester := as("user:default/lee", auth.RoleApprover)
	pending, err := h.p.RequestPromotion(requester, PromotionRequest{Service: "orders-service", Revision: "v1.0.0"})
	require.NoError(t, err)
	other := auth.NewContext(context.Background(), &auth.Principal{Name: "user:default/pat", Roles: []auth.Role{auth.RoleApprover}, Teams: []string{"team-payments"}})
	for name, tc := range map[string]struct {
		ctx  context.Context
		want bool
	}{
		"AnApproverOfTheTeam":       {as("user:default/kai", auth.RoleApprover), true},
		"TheRequester":              {requester, false},
		"TheRequesterInAnotherCase": {as("user:default/Lee", auth.RoleApprover), false},
		"AnApproverOfAnotherTeam":   {other, false},
		"ADeveloperOfTheTeam":       {as("user:default/dev", auth.RoleDeveloper), false},
	} {
		t.Run(name, func(t *testing.T) {
			mayDecide, err := h.p.MayDecide(tc.ctx, "orders-service")
			require.NoError(t, err)
			require.Equal(t, tc.want, mayDecide(pending))
		})
	}
	decided, err := h.p.Decide(as("user:default/kai", auth.RoleApprover), "orders-service", pending.ID, false, "not yet")
	require.NoError(t, err)
	mayDecide, err := h.p.MayDecide(as("user:default/kai", auth.RoleApprover), "orders-service")
	require.NoError(t, err)
	require.False(t, mayDecide(decided), "a decided promotion is decided by nobody")
}

func TestListPromotionsOfAServiceCairnDoesNotKnowIsNotFound(t *testing.T) {
	h := newPromotionHarness(t, manifest.DefaultSettings(), "staging", "production")
	promotions, _, err := h.p.ListPromotions(t.Context(), "orders-service", 0, "")
	require.NoError(t, err)
	require.Empty(t, promotions, "a service Cairn knows, with none yet")

	_, _, err = h.p.ListPromotions(t.Context(), "ghost-service", 0, "")
	requireRefused(t, err, codes.NotFound, "SERVICE_NOT_FOUND")
}
