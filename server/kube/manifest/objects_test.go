package manifest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

func ordersPlan() Plan {
	return Plan{
		Service:       "orders-service",
		Team:          "team-orders",
		Namespace:     "team-orders",
		Template:      "go-service",
		RepositoryURL: "https://github.com/company/orders-service.git",
		Database:      "postgresql",
		DatabaseSize:  "small",
		Bucket:        true,
		Environments:  []string{"staging", "production"},
	}
}

// ordersObjects is exactly what ordersPlan gives with the default settings.
const ordersObjects = `
apiVersion: platform.company.com/v1alpha1
kind: DatabaseClaim
metadata:
  name: orders-service-db
  namespace: team-orders
  labels: {app.kubernetes.io/name: orders-service, app.kubernetes.io/managed-by: cairn, team: team-orders}
  annotations: {cairn.dev/service: orders-service}
spec:
  engine: postgresql
  size: small
  version: "15"
  writeConnectionSecretToRef: {name: orders-service-db-connection}
---
apiVersion: platform.company.com/v1alpha1
kind: BucketClaim
metadata:
  name: orders-service-bucket
  namespace: team-orders
  labels: {app.kubernetes.io/name: orders-service, app.kubernetes.io/managed-by: cairn, team: team-orders}
  annotations: {cairn.dev/service: orders-service}
spec:
  versioning: true
  writeConnectionSecretToRef: {name: orders-service-bucket-connection}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: orders-service-staging
  namespace: argocd
  labels: {app.kubernetes.io/name: orders-service, app.kubernetes.io/managed-by: cairn, team: team-orders, environment: staging}
  annotations: {cairn.dev/service: orders-service}
spec:
  project: team-orders-project
  source:
    repoURL: https://github.com/company/orders-service.git
    targetRevision: main
    path: k8s/overlays/staging
  destination:
    server: https://kubernetes.default.svc
    namespace: team-orders
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
    retry:
      limit: 3
      backoff: {duration: 5s, factor: 2, maxDuration: 3m0s}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: orders-service-production
  namespace: argocd
  labels: {app.kubernetes.io/name: orders-service, app.kubernetes.io/managed-by: cairn, team: team-orders, environment: production}
  annotations: {cairn.dev/service: orders-service}
spec:
  project: team-orders-project
  source:
    repoURL: https://github.com/company/orders-service.git
    targetRevision: release
    path: k8s/overlays/production
  destination:
    server: https://kubernetes.default.svc
    namespace: team-orders
  syncPolicy:
    syncOptions: [CreateNamespace=true]
    retry:
      limit: 3
      backoff: {duration: 5s, factor: 2, maxDuration: 3m0s}
`

// requireObjects checks objs against YAML documents, field for field.
func requireObjects(t *testing.T, want string, objs []*unstructured.Unstructured) {
	t.Helper()
	docs := strings.Split(strings.TrimSpace(want), "\n---\n")
	require.Len(t, objs, len(docs))
	for i, doc := range docs {
		wantJSON, err := yaml.YAMLToJSON([]byte(doc))
		require.NoError(t, err)
		gotJSON, err := json.Marshal(objs[i].Object)
		require.NoError(t, err)
		require.JSONEq(t, string(wantJSON), string(gotJSON), "object %d (%s)", i, objs[i].GetName())
	}
}

func TestObjectsForOrdersServiceAreTwoClaimsThenTwoApplications(t *testing.T) {
	requireObjects(t, ordersObjects, Objects(ordersPlan(), DefaultSettings()))
}

func TestObjectsWithoutDatabaseOrBucketAreOnlyApplications(t *testing.T) {
	for _, database := range []string{"", "none"} {
		t.Run("database="+database, func(t *testing.T) {
			p := ordersPlan()
			p.Database, p.Bucket = database, false
			objs := Objects(p, DefaultSettings())
			require.Len(t, objs, 2)
			for _, o := range objs {
				require.Equal(t, KindApplication, o.GetKind())
			}
			require.Equal(t, "orders-service-staging", objs[0].GetName())
			require.Equal(t, "orders-service-production", objs[1].GetName())
		})
	}
}

func TestObjectsWithoutEnvironmentsAreOnlyClaims(t *testing.T) {
	p := ordersPlan()
	p.Environments = nil
	objs := Objects(p, DefaultSettings())
	require.Equal(t, []string{KindDatabaseClaim, KindBucketClaim}, kinds(objs))
}

func TestObjectsAreTheSameWhateverTheEnvironmentOrderAndRepeats(t *testing.T) {
	want := Objects(ordersPlan(), DefaultSettings())
	for _, envs := range [][]string{
		{"production", "staging"},
		{"staging", "production", "staging"},
		{"production", "production", "staging"},
	} {
		p := ordersPlan()
		p.Environments = envs
		require.Equal(t, want, Objects(p, DefaultSettings()), "%v", envs)
	}
	require.Equal(t, want, Objects(ordersPlan(), DefaultSettings()), "a second call")
}

func TestEnvironmentsOrderStagingProductionThenByName(t *testing.T) {
	require.Equal(t, []string{"staging", "production", "dev", "qa"},
		DefaultSettings().OrderEnvironments([]string{"qa", "production", "dev", "staging", "qa"}))
	require.Empty(t, DefaultSettings().OrderEnvironments(nil))
}

func TestEveryObjectCarriesTheServiceLabelsAndAnnotation(t *testing.T) {
	for _, o := range Objects(ordersPlan(), DefaultSettings()) {
		labels := o.GetLabels()
		require.Equal(t, "orders-service", labels[LabelName], o.GetName())
		require.Equal(t, "cairn", labels[LabelManagedBy], o.GetName())
		require.Equal(t, "team-orders", labels[LabelTeam], o.GetName())
		require.Equal(t, map[string]string{AnnotationService: "orders-service"}, o.GetAnnotations(), o.GetName())
		if o.GetKind() == KindApplication {
			require.Equal(t, strings.TrimPrefix(o.GetName(), "orders-service-"), labels[LabelEnvironment])
		} else {
			require.NotContains(t, labels, LabelEnvironment)
		}
	}
}

func TestApplicationSyncsAutomaticallyExceptInProduction(t *testing.T) {
	tests := []struct {
		environment        string
		productionRevision string
		automated          bool
		revision           string
	}{
		{environment: "staging", automated: true, revision: "main"},
		{environment: "dev", automated: true, revision: "main"},
		{environment: "staging", productionRevision: "v1.4.0", automated: true, revision: "main"},
		{environment: "production", automated: false, revision: "release"},
		{environment: "production", productionRevision: "3f2c9e1", automated: false, revision: "3f2c9e1"},
	}
	for _, tt := range tests {
		t.Run(tt.environment+"@"+tt.productionRevision, func(t *testing.T) {
			p := ordersPlan()
			p.Revisions = map[string]string{"production": tt.productionRevision}
			app := Application(p, tt.environment, DefaultSettings())

			automated, found, err := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
			require.NoError(t, err)
			require.Equal(t, tt.automated, found)
			if tt.automated {
				require.Equal(t, map[string]any{"prune": true, "selfHeal": true}, automated)
			}
			revision, _, _ := unstructured.NestedString(app.Object, "spec", "source", "targetRevision")
			require.Equal(t, tt.revision, revision)
			path, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
			require.Equal(t, "k8s/overlays/"+tt.environment, path)
			retry, _, _ := unstructured.NestedInt64(app.Object, "spec", "syncPolicy", "retry", "limit")
			require.Equal(t, int64(3), retry, "every environment retries a failed sync")
		})
	}
}

func TestReplicaCountSetsProductionReplicasOnly(t *testing.T) {
	p := ordersPlan()
	p.ReplicaCount = 3

	prod := Application(p, EnvironmentProduction, DefaultSettings())
	replicas, found, err := unstructured.NestedSlice(prod.Object, "spec", "source", "kustomize", "replicas")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, []any{map[string]any{"name": "orders-service", "count": int64(3)}}, replicas)

	staging := Application(p, EnvironmentStaging, DefaultSettings())
	_, found, _ = unstructured.NestedFieldNoCopy(staging.Object, "spec", "source", "kustomize")
	require.False(t, found)

	p.ReplicaCount = 0
	prod = Application(p, EnvironmentProduction, DefaultSettings())
	_, found, _ = unstructured.NestedFieldNoCopy(prod.Object, "spec", "source", "kustomize")
	require.False(t, found, "no count leaves the repository's replicas alone")
}

func TestDatabaseClaimFillsSizeAndTheEngineVersion(t *testing.T) {
	tests := []struct {
		engine, size, version string
		wantSize, wantVersion string
	}{
		{engine: "postgresql", wantSize: "small", wantVersion: "15"},
		{engine: "mysql", size: "large", wantSize: "large", wantVersion: "8.0"},
		{engine: "redis", size: "medium", wantSize: "medium", wantVersion: "7.1"},
		{engine: "mongodb", wantSize: "small", wantVersion: "7.0"},
		{engine: "postgresql", version: "16", wantSize: "small", wantVersion: "16"},
	}
	for _, tt := range tests {
		t.Run(tt.engine+"/"+tt.size+"/"+tt.version, func(t *testing.T) {
			p := ordersPlan()
			p.Database, p.DatabaseSize, p.DatabaseVersion = tt.engine, tt.size, tt.version
			spec, _, err := unstructured.NestedMap(DatabaseClaim(p, DefaultSettings()).Object, "spec")
			require.NoError(t, err)
			require.Equal(t, tt.engine, spec["engine"])
			require.Equal(t, tt.wantSize, spec["size"])
			require.Equal(t, tt.wantVersion, spec["version"])
		})
	}
}

func TestSettingsChooseClaimGroupProjectNamespaceAndServer(t *testing.T) {
	s := Settings{
		ClaimGroup:        "infra.example.org",
		ClaimVersion:      "v1",
		ArgoCDNamespace:   "gitops",
		ArgoCDProject:     "services",
		DestinationServer: "https://prod.example.org",
	}
	objs := Objects(ordersPlan(), s)
	require.Equal(t, "infra.example.org/v1", objs[0].GetAPIVersion())
	require.Equal(t, "infra.example.org/v1", objs[1].GetAPIVersion())
	app := objs[2]
	require.Equal(t, "argoproj.io/v1alpha1", app.GetAPIVersion(), "Argo CD's group is not a setting")
	require.Equal(t, "gitops", app.GetNamespace())
	project, _, _ := unstructured.NestedString(app.Object, "spec", "project")
	require.Equal(t, "services", project, "a project without {team} is used as is")
	server, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "server")
	require.Equal(t, "https://prod.example.org", server)
	namespace, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "namespace")
	require.Equal(t, "team-orders", namespace, "the destination is the team's namespace")
}

func TestEmptySettingsMeanTheDefaults(t *testing.T) {
	require.Equal(t, Objects(ordersPlan(), DefaultSettings()), Objects(ordersPlan(), Settings{}))
	require.Equal(t, Kinds(DefaultSettings()), Kinds(Settings{}))
}

func TestEmptyNamespaceMeansTheTeam(t *testing.T) {
	p := ordersPlan()
	p.Namespace = ""
	require.Equal(t, Objects(ordersPlan(), DefaultSettings()), Objects(p, DefaultSettings()))
}

func TestKindsAreTheClaimsThenApplications(t *testing.T) {
	var gvrs []schema.GroupVersionResource
	for _, k := range Kinds(DefaultSettings()) {
		gvrs = append(gvrs, k.GroupVersionResource())
	}
	require.Equal(t, []schema.GroupVersionResource{
		{Group: "platform.company.com", Version: "v1alpha1", Resource: "databaseclaims"},
		{Group: "platform.company.com", Version: "v1alpha1", Resource: "bucketclaims"},
		{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"},
	}, gvrs)
	require.True(t, DatabaseClaimKind(Settings{}).Claim)
	require.False(t, ApplicationKind.Claim)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Plan)
		err    string
	}{
		{name: "orders-service is valid", change: func(*Plan) {}},
		{name: "no database or bucket is valid", change: func(p *Plan) { p.Database, p.Bucket = "none", false }},
		{name: "service must be a DNS label", change: func(p *Plan) { p.Service = "Orders_Service" }, err: "service"},
		{name: "team is required", change: func(p *Plan) { p.Team = "" }, err: "team is required"},
		{name: "namespace must be a DNS label", change: func(p *Plan) { p.Namespace = "team.orders" }, err: "namespace"},
		{name: "engine must be known", change: func(p *Plan) { p.Database = "oracle" }, err: "database \"oracle\""},
		{name: "size must be known", change: func(p *Plan) { p.DatabaseSize = "huge" }, err: "database size"},
		{name: "size is not checked without a database", change: func(p *Plan) { p.Database, p.DatabaseSize = "none", "huge" }},
		{name: "environments need a repository", change: func(p *Plan) { p.RepositoryURL = "" }, err: "repository URL is required"},
		{name: "claims alone need no repository", change: func(p *Plan) { p.RepositoryURL, p.Environments = "", nil }},
		{name: "environment must be a DNS label", change: func(p *Plan) { p.Environments = []string{"Staging"} }, err: "environment"},
		{name: "replicas must not be negative", change: func(p *Plan) { p.ReplicaCount = -1 }, err: "replica count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ordersPlan()
			tt.change(&p)
			err := p.Validate()
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func kinds(objs []*unstructured.Unstructured) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.GetKind())
	}
	return ks
}
