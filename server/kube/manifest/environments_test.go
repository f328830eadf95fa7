package manifest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// hubAndSpoke is a three-environment path: dev follows main on the hub,
// staging takes promotions from dev, and production, production-like on a
// spoke cluster Argo CD knows by name, takes approved promotions of what
// staging runs.
func hubAndSpoke() []Environment {
	return []Environment{
		{Name: "dev", Namespace: "{team}-dev"},
		{Name: "staging", Namespace: "{team}-staging", Promotion: &Promotion{From: "dev"}},
		{Name: "production", Sync: SyncPromotion, Revision: "release", Replicas: true, Production: true,
			ArgoCDNamespace: "argocd-prod", ArgoCDProject: "{team}-production", DestinationName: "prod-eu",
			Promotion: &Promotion{From: "staging", Approval: true, RequireRunning: true}},
	}
}

func TestValidateEnvironmentsTakesTheDefaultAndAConfiguredPath(t *testing.T) {
	require.NoError(t, ValidateEnvironments(DefaultEnvironments()))
	require.NoError(t, ValidateEnvironments(hubAndSpoke()))
}

func TestValidateEnvironmentsNamesWhatIsWrong(t *testing.T) {
	tests := []struct {
		name string
		envs []Environment
		want []string
	}{
		{"None", nil, []string{"at least one is required"}},
		{"BadName", []Environment{{Name: "Prod_EU"}}, []string{`environments[0]: name "Prod_EU"`}},
		{"Twice", []Environment{{Name: "dev"}, {Name: "dev"}}, []string{`environments[1]: "dev" is named twice`}},
		{"UnknownSync", []Environment{{Name: "dev", Sync: "manual"}}, []string{`sync "manual": want automatic or promotion`}},
		{"PromotionSyncWithoutPromotion", []Environment{{Name: "dev", Sync: SyncPromotion}}, []string{"syncs on promotion but says nothing of promotion.from"}},
		{"TwoDestinations", []Environment{{Name: "dev", DestinationServer: "https://a", DestinationName: "a"}}, []string{"not both"}},
		{"NoFrom", []Environment{{Name: "dev", Promotion: &Promotion{}}}, []string{"promotion.from is required"}},
		{"UnknownFrom", []Environment{{Name: "dev"}, {Name: "production", Promotion: &Promotion{From: "staging"}}},
			[]string{`promotion from "staging", which is not an environment (have dev, production)`}},
		{"Cycle", []Environment{
			{Name: "a", Promotion: &Promotion{From: "c"}}, {Name: "b", Promotion: &Promotion{From: "a"}}, {Name: "c", Promotion: &Promotion{From: "b"}},
		}, []string{"promotions go round in a cycle: a -> b -> c -> a"}},
		{"SelfPromotion", []Environment{{Name: "a", Promotion: &Promotion{From: "a"}}}, []string{"cycle: a -> a"}},
		{"BadNamespacePattern", []Environment{{Name: "dev", Namespace: "{team}_dev"}}, []string{`environments[0] (dev): namespace "{team}_dev"`}},
		{"BadClaimsNamespacePattern", []Environment{{Name: "dev", Claims: &Claims{Namespace: "Data-{team}"}}},
			[]string{`environments[0] (dev): claims.namespace "Data-{team}"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateEnvironments(tt.envs)
			require.Error(t, err)
			for _, want := range tt.want {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestApplicationFollowsItsEnvironment(t *testing.T) {
	s := DefaultSettings()
	s.Environments = hubAndSpoke()
	p := ordersPlan()
	p.Environments = []string{"production", "dev", "staging"}
	p.ReplicaCount = 4
	p.Revisions = map[string]string{"staging": "9c1e2f3"}

	spec := func(env string) map[string]any {
		app := Application(p, env, s)
		return app.Object["spec"].(map[string]any)
	}
	dev := spec("dev")
	require.Equal(t, map[string]any{"server": DefaultDestinationServer, "namespace": "team-orders-dev"}, dev["destination"])
	require.Equal(t, "main", dev["source"].(map[string]any)["targetRevision"])
	require.Equal(t, "team-orders-project", dev["project"])
	require.Contains(t, dev["syncPolicy"], "automated")
	require.NotContains(t, dev["source"], "kustomize", "replicas only where the environment takes them")

	staging := spec("staging")
	require.Equal(t, "9c1e2f3", staging["source"].(map[string]any)["targetRevision"], "the revision a promotion set")
	require.Contains(t, staging["syncPolicy"], "automated")

	production := Application(p, "production", s)
	require.Equal(t, "argocd-prod", production.GetNamespace())
	prodSpec := production.Object["spec"].(map[string]any)
	require.Equal(t, map[string]any{"name": "prod-eu", "namespace": "team-orders"}, prodSpec["destination"])
	require.Equal(t, "team-orders-production", prodSpec["project"])
	require.Equal(t, "release", prodSpec["source"].(map[string]any)["targetRevision"])
	require.NotContains(t, prodSpec["syncPolicy"], "automated")
	replicas, _, _ := unstructured.NestedSlice(production.Object, "spec", "source", "kustomize", "replicas")
	require.Equal(t, []any{map[string]any{"name": "orders-service", "count": int64(4)}}, replicas)

	var names []string
	for _, obj := range Objects(p, s) {
		names = append(names, obj.GetName())
	}
	require.Equal(t, []string{"orders-service-db", "orders-service-bucket",
		"orders-service-dev", "orders-service-staging", "orders-service-production"}, names, "in the order of the path")
}

func TestCheckEnvironmentsNamesThePath(t *testing.T) {
	s := DefaultSettings()
	s.Environments = hubAndSpoke()
	require.NoError(t, s.CheckEnvironments([]string{"dev", "production"}))
	err := s.CheckEnvironments([]string{"dev", "qa"})
	require.EqualError(t, err, `environment "qa" is not configured: want one of dev, staging, production`)
	require.EqualError(t, DefaultSettings().CheckEnvironments([]string{"dev"}),
		`environment "dev" is not configured: want one of staging, production`)
}

func TestProductionEnvironmentsAreThoseThePathMarksInPathOrder(t *testing.T) {
	require.Equal(t, []string{"production"}, DefaultSettings().ProductionEnvironments(), "the default path")
	require.Equal(t, []string{"production"}, Settings{}.ProductionEnvironments(), "no path is the default path")

	s := DefaultSettings()
	s.Environments = []Environment{
		{Name: "staging"},
		{Name: "production-us", Production: true, Promotion: &Promotion{From: "staging"}},
		{Name: "production-eu", Production: true, Promotion: &Promotion{From: "staging"}},
	}
	require.Equal(t, []string{"production-us", "production-eu"}, s.ProductionEnvironments())

	s.Environments = []Environment{{Name: "dev"}, {Name: "production", Promotion: &Promotion{From: "dev"}}}
	require.NoError(t, ValidateEnvironments(s.Environments), "a path may mark none")
	require.Empty(t, s.ProductionEnvironments(), "the name alone does not make an environment production-like")
}

// ownClaims is hubAndSpoke with production's claims its own, in the team's
// production namespace on the prod cluster.
func ownClaims() Settings {
	s := DefaultSettings()
	s.Environments = hubAndSpoke()
	s.Environments[2].Claims = &Claims{Cluster: "prod", Namespace: "{team}-production"}
	return s
}

func TestAnEnvironmentWithClaimsOfItsOwnGetsThemBesideTheSharedOnes(t *testing.T) {
	s := ownClaims()
	p := ordersPlan()
	p.Environments = []string{"production", "dev", "staging"}
	require.Equal(t, []ClaimSet{{Namespace: "team-orders"}, {Environment: "production", Namespace: "team-orders-production"}}, s.ClaimSets(p))

	var claims []string
	for _, obj := range Objects(p, s) {
		if obj.GetKind() != KindApplication {
			claims = append(claims, obj.GetKind()+" "+obj.GetNamespace()+"/"+obj.GetName()+" "+obj.GetLabels()[LabelEnvironment])
			require.Equal(t, ConnectionSecretName(obj.GetName()),
				obj.Object["spec"].(map[string]any)["writeConnectionSecretToRef"].(map[string]any)["name"])
		}
	}
	require.Equal(t, []string{
		"DatabaseClaim team-orders/orders-service-db ",
		"BucketClaim team-orders/orders-service-bucket ",
		"DatabaseClaim team-orders-production/orders-service-production-db production",
		"BucketClaim team-orders-production/orders-service-production-bucket production",
	}, claims)

	p.Environments = []string{"production"}
	require.Equal(t, []ClaimSet{{Environment: "production", Namespace: "team-orders-production"}}, s.ClaimSets(p),
		"no environment of the plan shares claims: there are no shared ones")
	p.Environments = nil
	require.Equal(t, []ClaimSet{{Namespace: "team-orders"}}, s.ClaimSets(p))
}

func TestCheckPlanRefusesANamespaceTheTeamMakesTooLong(t *testing.T) {
	s := ownClaims()
	p := ordersPlan()
	p.Environments = []string{"dev", "production"}
	require.NoError(t, s.CheckPlan(p))

	p.Team = strings.Repeat("t", 60)
	p.Namespace = p.Team
	require.ErrorContains(t, s.CheckPlan(p), `namespace "`+p.Team+`-dev" of dev: must be no more than 63 characters`)
	p.Environments = []string{"production"}
	s.Environments[2].Namespace = "" // the workload in the team's namespace, the claims not
	require.ErrorContains(t, s.CheckPlan(p), `claims namespace "`+p.Team+`-production" of production: must be no more than 63 characters`)
}
