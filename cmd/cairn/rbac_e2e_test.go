package main

// Least privilege: the real cairn binary runs as the ServiceAccount that
// deploy/ renders, with only the rights of the roles deploy/ renders, on a
// real API server (envtest, which authorizes with RBAC). With those rights
// the provisioning flow completes; with any one verb taken out of any one
// rule, Cairn logs the API server's refusal of a call it needs.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/cairn-dev/cairn/internal/testenv/deploytest"
	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// previousArgoCDNamespace holds an Application Cairn applied under an
// earlier kubernetes.argocdNamespace: Cairn removes it, which takes the
// delete right on Applications.
const previousArgoCDNamespace = "argocd-previous"

// flowStep is how far into the provisioning flow Cairn gets before it uses
// a right.
type flowStep int

const (
	// atStart: the informers' lists and watches, and leader election.
	atStart flowStep = iota
	// atCreate: applying a new service's claims and Applications, and
	// removing an Application of the service that it no longer wants.
	atCreate
	// atResourceRemoval: deleting the claim of a resource taken from a
	// service.
	atResourceRemoval
)

// rightsUsed says when Cairn uses each right the rendered roles give it, by
// resource and verb. A right the roles give that is missing here fails the
// test: either Cairn does not need it, or this test does not yet show
// when Cairn uses it.
var rightsUsed = map[string]flowStep{
	"applications/list":     atStart,
	"applications/watch":    atStart,
	"applications/create":   atCreate, // a server-side apply that makes the object
	"applications/patch":    atCreate, // server-side apply, and the sync a promotion asks for
	"applications/delete":   atCreate,
	"databaseclaims/list":   atStart,
	"databaseclaims/watch":  atStart,
	"databaseclaims/create": atCreate,
	"databaseclaims/patch":  atCreate,
	"databaseclaims/delete": atResourceRemoval,
	"bucketclaims/list":     atStart,
	"bucketclaims/watch":    atStart,
	"bucketclaims/create":   atCreate,
	"bucketclaims/patch":    atCreate,
	"bucketclaims/delete":   atResourceRemoval,
	"namespaces/create":     atCreate, // a team's namespace, where it is missing
	"deployments/list":      atStart,  // the workload cost informer
	"deployments/watch":     atStart,
	"leases/get":            atStart, // leader election
	"leases/create":         atStart,
	"leases/update":         atStart,
}

// leastPrivilege is the API server set up with the rendered ServiceAccount
// and roles, and what it takes to run Cairn as that ServiceAccount.
type leastPrivilege struct {
	env     *kubetest.Env
	admin   kubernetes.Interface
	applier *deploytest.Applier
	// roles are the rendered ClusterRole and Role, as rendered.
	roles []*unstructured.Unstructured
	// namespace is Cairn's, where its ServiceAccount and Lease are.
	namespace string
	// user is the ServiceAccount's user name.
	user       string
	kubeconfig string
	config     string
}

func setUpLeastPrivilege(t *testing.T) *leastPrivilege {
	t.Helper()
	env := kubetest.Shared(t)
	env.CreateNamespace(t, "team-orders")
	env.CreateNamespace(t, previousArgoCDNamespace)
	admin, err := kubernetes.NewForConfig(env.Config())
	require.NoError(t, err)
	applier, err := deploytest.NewApplier(env.Config())
	require.NoError(t, err)
	objs, err := deploytest.Render("sqlite")
	require.NoError(t, err)

	lp := &leastPrivilege{env: env, admin: admin, applier: applier}
	deployment := deploytest.Find(objs, "Deployment", "cairn")
	lp.namespace = deployment.GetNamespace()
	account, _, _ := unstructured.NestedString(deployment.Object, "spec", "template", "spec", "serviceAccountName")
	lp.user = fmt.Sprintf("system:serviceaccount:%s:%s", lp.namespace, account)
	for _, obj := range objs {
		switch obj.GetKind() {
		case "ClusterRole", "Role":
			lp.roles = append(lp.roles, obj)
		case "Namespace", "ServiceAccount", "ClusterRoleBinding", "RoleBinding":
		default:
			continue
		}
		_, err := applier.Apply(t.Context(), obj, false)
		require.NoError(t, err)
	}
	require.Len(t, lp.roles, 2, "a ClusterRole and a Role")

	token, err := admin.CoreV1().ServiceAccounts(lp.namespace).CreateToken(t.Context(), account,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(3600))}},
		metav1.CreateOptions{})
	require.NoError(t, err)
	lp.kubeconfig = writeTokenKubeconfig(t, env, token.Status.Token)
	lp.config = renderedConfigWithTokens(t, objs)
	return lp
}

// requestContext bounds a request the test makes, in a cleanup too, where
// the test's own context is done.
func requestContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// writeTokenKubeconfig writes a kubeconfig that reaches env's API server
// with a bearer token.
func writeTokenKubeconfig(t *testing.T, env *kubetest.Env, token string) string {
	t.Helper()
	server := env.Config()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: server.Host, CertificateAuthorityData: server.CAData}
	kc.AuthInfos["cairn"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["cairn"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "cairn"}
	kc.CurrentContext = "cairn"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*kc, path))
	return path
}

// renderedConfigWithTokens writes the config file of the rendered
// ConfigMap, with the tests' tokens in place of the machine callers a
// platform team would list.
func renderedConfigWithTokens(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	var data map[string]string
	for _, obj := range objs {
		if obj.GetKind() == "ConfigMap" && strings.HasPrefix(obj.GetName(), "cairn-config") {
			data, _, _ = unstructured.NestedStringMap(obj.Object, "data")
		}
	}
	var config map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(data["cairn.yaml"]), &config))
	tokens := []any{}
	for _, token := range []struct {
		name, token string
		roles       []any
	}{
		{"e2e-admin", adminToken, []any{"admin"}},
		{"orders-developer", ordersDeveloperToken, []any{"developer", "approver"}},
		{"orders-approver", ordersApproverToken, []any{"approver"}},
	} {
		entry := map[string]any{"name": token.name, "sha256": tokenHash(token.token), "roles": token.roles}
		if token.name != "e2e-admin" {
			entry["teams"] = []any{"team-orders"}
		}
		tokens = append(tokens, entry)
	}
	config["auth"].(map[string]any)["tokens"] = tokens
	out, err := yaml.Marshal(config)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "cairn.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	return path
}

// launch starts cairn as the ServiceAccount with a fresh store, once no
// Lease is left by an earlier run: the first to start leads at once.
func (lp *leastPrivilege) launch(t *testing.T) *cairnProcess {
	t.Helper()
	err := lp.admin.CoordinationV1().Leases(lp.namespace).Delete(t.Context(), kube.LeaseName, metav1.DeleteOptions{})
	if !apierrors.IsNotFound(err) {
		require.NoError(t, err)
	}
	store := "sqlite:" + filepath.Join(t.TempDir(), "cairn.db")
	return launchCairnWithConfig(t, store, lp.config, "--kubeconfig", lp.kubeconfig, "--lease-namespace", lp.namespace)
}

// placeLeftOverApplication puts an Application of service, as Cairn applied
// it under an earlier Argo CD namespace, where Cairn will find it.
func (lp *leastPrivilege) placeLeftOverApplication(t *testing.T, service string) *unstructured.Unstructured {
	t.Helper()
	removeAfterTest(t, lp.env, service)
	settings := manifest.DefaultSettings()
	settings.ArgoCDNamespace = previousArgoCDNamespace
	app := manifest.Application(servicePlan(service), manifest.EnvironmentStaging, settings)
	_, err := lp.env.Dynamic().Resource(manifest.ApplicationKind.GroupVersionResource()).Namespace(previousArgoCDNamespace).
		Create(t.Context(), app, metav1.CreateOptions{})
	require.NoError(t, err)
	return app
}

// createService asks cairn for createBody's service as a developer of its
// team.
func createService(t *testing.T, p *cairnProcess, service string) {
	t.Helper()
	r := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", createBody(service, "create-"+service))
	require.Equal(t, http.StatusOK, r.status, r.raw)
}

func (lp *leastPrivilege) waitGone(t *testing.T, obj *unstructured.Unstructured, why string) {
	t.Helper()
	require.Eventually(t, func() bool { return lp.env.Get(t, obj) == nil }, 60*time.Second, 100*time.Millisecond,
		"%s %s/%s was not removed: %s", obj.GetKind(), obj.GetNamespace(), obj.GetName(), why)
}

// allowed asks the API server whether the ServiceAccount may do what attrs
// say.
func (lp *leastPrivilege) allowed(t *testing.T, attrs authorizationv1.ResourceAttributes) bool {
	t.Helper()
	ctx, cancel := requestContext()
	defer cancel()
	review, err := lp.admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               lp.user,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + lp.namespace, "system:authenticated"},
			ResourceAttributes: &attrs,
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	return review.Status.Allowed
}

// applyRole applies role and waits until the authorizer acts on it: until
// the ServiceAccount may, or may not, do what attrs say.
func (lp *leastPrivilege) applyRole(t *testing.T, role *unstructured.Unstructured, attrs authorizationv1.ResourceAttributes, wantAllowed bool) {
	t.Helper()
	ctx, cancel := requestContext()
	defer cancel()
	_, err := lp.applier.Apply(ctx, role, false)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return lp.allowed(t, attrs) == wantAllowed }, 10*time.Second, 20*time.Millisecond,
		"RBAC did not take %s %s: allowed should be %v for %+v", role.GetKind(), role.GetName(), wantAllowed, attrs)
}

// requireRefused waits until cairn's log shows the API server refusing it
// verb on one of resources.
func (lp *leastPrivilege) requireRefused(t *testing.T, p *cairnProcess, group, verb string, resources []string) {
	t.Helper()
	quoted := make([]string, len(resources))
	for i, r := range resources {
		quoted[i] = regexp.QuoteMeta(r)
	}
	refusal := regexp.MustCompile(fmt.Sprintf(`User "%s" cannot %s resource "(%s)" in API group "%s"`,
		regexp.QuoteMeta(lp.user), verb, strings.Join(quoted, "|"), regexp.QuoteMeta(group)))
	require.Eventually(t, func() bool {
		// Log lines quote the API server's message: drop the escapes.
		return refusal.MatchString(strings.ReplaceAll(p.logs.String(), `\`, ""))
	}, 60*time.Second, 100*time.Millisecond, "cairn never logged the refusal %s", refusal)
}

func TestCairnNeedsEveryRightItsRolesGiveAndNoOther(t *testing.T) {
	lp := setUpLeastPrivilege(t)

	t.Run("WithTheRenderedRolesTheProvisioningFlowCompletes", func(t *testing.T) {
		const service = "least-privilege"
		leftOver := lp.placeLeftOverApplication(t, service)
		p := lp.launch(t)
		p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)

		createService(t, p, service)
		plan := servicePlan(service)
		db, bucket := manifest.DatabaseClaim(plan, manifest.DefaultSettings()), manifest.BucketClaim(plan, manifest.DefaultSettings())
		require.Eventually(t, func() bool {
			return lp.env.Get(t, db) != nil && lp.env.Get(t, bucket) != nil &&
				lp.env.Application(t, manifest.ApplicationName(service, "staging")) != nil &&
				lp.env.Application(t, manifest.ApplicationName(service, "production")) != nil
		}, 60*time.Second, 100*time.Millisecond, "the claims and Applications were not applied")
		lp.waitGone(t, leftOver, "Cairn removes an Application it applied and no longer wants")

		lp.env.MarkClaimReady(t, db)
		lp.env.MarkClaimReady(t, bucket)
		lp.env.MarkApplicationSynced(t, manifest.ApplicationName(service, "staging"), "abc123")
		p.waitPhase(t, service, "ready")

		r := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services/"+service+"/promotions",
			strings.NewReader(`{"promotion": {"revision": "v1.0.0"}}`))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		approved := p.restAs(t, ordersApproverToken, "POST", "/v1/"+r.body["name"].(string)+":approve", strings.NewReader(`{}`))
		require.Equal(t, http.StatusOK, approved.status, approved.raw)
		require.Eventually(t, func() bool {
			return lp.env.ApplicationOperation(t, manifest.ApplicationName(service, "production")) != nil
		}, 30*time.Second, 100*time.Millisecond, "no production sync was requested")

		removed := p.restAs(t, ordersDeveloperToken, "DELETE", "/v1/services/"+service+"/resources/bucket", nil)
		require.Equal(t, http.StatusOK, removed.status, removed.raw)
		lp.waitGone(t, bucket, "the bucket was removed from the service")
		removed = p.rest(t, "DELETE", "/v1/services/"+service+"/resources/database?force=true", nil)
		require.Equal(t, http.StatusOK, removed.status, removed.raw)
		lp.waitGone(t, db, "the database was removed from the service")

		lease, err := lp.admin.CoordinationV1().Leases(lp.namespace).Get(t.Context(), kube.LeaseName, metav1.GetOptions{})
		require.NoError(t, err)
		require.NotEmpty(t, *lease.Spec.HolderIdentity, "cairn leads from its own namespace's Lease")
		require.NotContains(t, p.logs.String(), "forbidden")
	})

	for _, role := range lp.roles {
		typedRole := &rbacv1.ClusterRole{} // a Role's rules have the same shape
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(role.Object, typedRole))
		for i, rule := range typedRole.Rules {
			for _, verb := range rule.Verbs {
				name := fmt.Sprintf("without %s on %s", verb, strings.Join(rule.Resources, " and "))
				t.Run(name, func(t *testing.T) {
					lp.runWithout(t, role, typedRole, i, verb)
				})
			}
		}
	}
}

// runWithout takes verb out of rule i of role, runs the provisioning flow
// as far as Cairn needs that right, and requires Cairn to be refused.
func (lp *leastPrivilege) runWithout(t *testing.T, role *unstructured.Unstructured, typedRole *rbacv1.ClusterRole, i int, verb string) {
	rule := typedRole.Rules[i]
	step := atStart
	for _, resource := range rule.Resources {
		s, ok := rightsUsed[resource+"/"+verb]
		require.True(t, ok, "the roles give %s on %s, which Cairn is not known to use: take it out, or show here when Cairn needs it", verb, resource)
		step = max(step, s)
	}

	reduced := role.DeepCopy()
	rules := slices.Clone(typedRole.Rules)
	rules[i].Verbs = slices.DeleteFunc(slices.Clone(rule.Verbs), func(v string) bool { return v == verb })
	if len(rules[i].Verbs) == 0 {
		rules = slices.Delete(rules, i, i+1)
	}
	unstructuredRules, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&rbacv1.ClusterRole{Rules: rules})
	require.NoError(t, err)
	reduced.Object["rules"] = unstructuredRules["rules"]
	attrs := authorizationv1.ResourceAttributes{Verb: verb, Group: rule.APIGroups[0], Resource: rule.Resources[0]}
	if role.GetKind() == "Role" {
		attrs.Namespace = role.GetNamespace()
		if len(rule.ResourceNames) > 0 {
			attrs.Name = rule.ResourceNames[0]
		}
	}
	lp.applyRole(t, reduced, attrs, false)
	t.Cleanup(func() { lp.applyRole(t, role, attrs, true) })

	if verb == "list" {
		// client-go's informers get their first view with a streaming
		// watch where the API server serves one, as this one does, and
		// list where it does not, as older Kubernetes versions do not:
		// take that path. (Cairn lists Applications itself, too, to know
		// whether its view is fresh.)
		t.Setenv("KUBE_FEATURE_WatchListClient", "false")
	}
	service := fmt.Sprintf("lp-%s-%s", verb, strings.TrimSuffix(rule.Resources[0], "s"))
	lp.placeLeftOverApplication(t, service)
	p := lp.launch(t)
	if step >= atCreate {
		p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
		createService(t, p, service)
	}
	if step >= atResourceRemoval {
		bucket := manifest.BucketClaim(servicePlan(service), manifest.DefaultSettings())
		require.Eventually(t, func() bool { return lp.env.Get(t, bucket) != nil }, 60*time.Second, 100*time.Millisecond,
			"the bucket was not applied")
		removed := p.restAs(t, ordersDeveloperToken, "DELETE", "/v1/services/"+service+"/resources/bucket", nil)
		require.Equal(t, http.StatusOK, removed.status, removed.raw)
	}
	lp.requireRefused(t, p, rule.APIGroups[0], verb, rule.Resources)
}
