package deploytest_test

// The manifests in deploy/: each overlay renders, a real API server
// (envtest) accepts every object it renders under server-side dry run, the
// Deployment passes the seed's guardrails, and Cairn accepts the config the
// manifests give it.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/cairn-dev/cairn/internal/testenv/deploytest"
	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// applierOnce holds the Applier of apiServer.
var applierOnce struct {
	once    sync.Once
	applier *deploytest.Applier
	err     error
}

// apiServer returns an Applier with every right on the test binary's API
// server, where the ServiceMonitor fixture is installed.
func apiServer(t *testing.T) *deploytest.Applier {
	t.Helper()
	env := kubetest.Shared(t)
	applierOnce.once.Do(func() { applierOnce.applier, applierOnce.err = installServiceMonitors(env) })
	require.NoError(t, applierOnce.err)
	return applierOnce.applier
}

// installServiceMonitors installs the ServiceMonitor fixture and waits
// until the API server serves the kind.
func installServiceMonitors(env *kubetest.Env) (*deploytest.Applier, error) {
	applier, err := deploytest.NewApplier(env.Config())
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join("testdata", "servicemonitors.monitoring.coreos.com.yaml"))
	if err != nil {
		return nil, err
	}
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &crd.Object); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := applier.Apply(ctx, crd, false); err != nil {
		return nil, err
	}
	monitors := schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}
	for {
		_, err := env.Dynamic().Resource(monitors).List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			return applier, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the API server did not serve ServiceMonitors: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestEachOverlayRendersAndTheAPIServerAcceptsEveryObject(t *testing.T) {
	applier := apiServer(t)

	wantKinds := map[string][]string{
		"sqlite":   {"ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Namespace", "PersistentVolumeClaim", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount", "ServiceMonitor"},
		"postgres": {"ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Namespace", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount", "ServiceMonitor"},
	}
	for _, overlay := range deploytest.Overlays {
		t.Run(overlay, func(t *testing.T) {
			objs, err := deploytest.Render(overlay)
			require.NoError(t, err)
			var kinds []string
			for _, obj := range objs {
				kinds = append(kinds, obj.GetKind())
			}
			slices.Sort(kinds)
			require.Equal(t, wantKinds[overlay], kinds)

			// A namespaced object can be dry-run only in a namespace that
			// exists: create the rendered one for real first.
			for _, obj := range objs {
				if obj.GetKind() == "Namespace" {
					_, err := applier.Apply(t.Context(), obj, false)
					require.NoError(t, err)
				}
			}
			for _, obj := range objs {
				warnings, err := applier.Apply(t.Context(), obj, true)
				require.NoError(t, err)
				// Pod Security admission warns here about a Deployment
				// whose pods the namespace's restricted level would reject.
				require.Empty(t, warnings, "%s %s", obj.GetKind(), obj.GetName())
			}
		})
	}
}

// TestTheNamespaceEnforcesTheRestrictedPodSecurityLevel shows that the
// dry run above would have caught a pod template that breaks the restricted
// level: the same Deployment without its container securityContext draws
// Pod Security admission's warning.
func TestTheNamespaceEnforcesTheRestrictedPodSecurityLevel(t *testing.T) {
	applier := apiServer(t)
	objs, err := deploytest.Render("sqlite")
	require.NoError(t, err)
	_, err = applier.Apply(t.Context(), deploytest.Find(objs, "Namespace", "cairn"), false)
	require.NoError(t, err)

	deployment := deploytest.Find(objs, "Deployment", "cairn").DeepCopy()
	containers, _, _ := unstructured.NestedSlice(deployment.Object, "spec", "template", "spec", "containers")
	delete(containers[0].(map[string]any), "securityContext")
	require.NoError(t, unstructured.SetNestedSlice(deployment.Object, containers, "spec", "template", "spec", "containers"))
	warnings, err := applier.Apply(t.Context(), deployment, true)
	require.NoError(t, err)
	require.NotEmpty(t, warnings)
	require.Contains(t, strings.Join(warnings, "\n"), `would violate PodSecurity "restricted:latest"`)
}

// guardrails are the seed's rules for every workload, as its Kyverno
// ClusterPolicy platform-guardrails (require-labels,
// require-resource-limits, restrict-privileged) and its Gatekeeper
// K8sRequiredSecurityContext (non-root, read-only root filesystem, no
// privilege escalation, capabilities dropped) state them, and its
// operational standard that every service exposes health checks, which
// Cairn serves at /healthz (liveness) and /readyz (readiness).
var guardrails = []struct {
	name  string
	check func(t *testing.T, d *appsv1.Deployment)
}{
	{"require-labels", func(t *testing.T, d *appsv1.Deployment) {
		require.NotEmpty(t, d.Labels["team"], "the Deployment's team label")
		require.NotEmpty(t, d.Labels["app.kubernetes.io/name"], "the Deployment's name label")
	}},
	{"require-resource-limits", func(t *testing.T, d *appsv1.Deployment) {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, list := range []corev1.ResourceList{c.Resources.Limits, c.Resources.Requests} {
				for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					q, ok := list[name]
					require.True(t, ok && q.Cmp(resource.Quantity{}) > 0, "container %s: %s", c.Name, name)
				}
			}
		}
	}},
	{"restrict-privileged", func(t *testing.T, d *appsv1.Deployment) {
		for _, c := range d.Spec.Template.Spec.Containers {
			// The Kyverno pattern `privileged: false` needs the field set.
			require.NotNil(t, c.SecurityContext, "container %s", c.Name)
			require.Equal(t, new(false), c.SecurityContext.Privileged, "container %s", c.Name)
		}
	}},
	{"run-as-non-root", func(t *testing.T, d *appsv1.Deployment) {
		for _, c := range d.Spec.Template.Spec.Containers {
			// Gatekeeper's rule reads the container's securityContext, not
			// the pod's.
			require.NotNil(t, c.SecurityContext, "container %s", c.Name)
			require.Equal(t, new(true), c.SecurityContext.RunAsNonRoot, "container %s", c.Name)
		}
	}},
	{"read-only-root-filesystem", func(t *testing.T, d *appsv1.Deployment) {
		for _, c := range d.Spec.Template.Spec.Containers {
			require.NotNil(t, c.SecurityContext, "container %s", c.Name)
			require.Equal(t, new(true), c.SecurityContext.ReadOnlyRootFilesystem, "container %s", c.Name)
		}
	}},
	{"no-privilege-escalation", func(t *testing.T, d *appsv1.Deployment) {
		for _, c := range d.Spec.Template.Spec.Containers {
			require.NotNil(t, c.SecurityContext, "container %s", c.Name)
			require.Equal(t, new(false), c.SecurityContext.AllowPrivilegeEscalation, "container %s", c.Name)
		}
	}},
	{"drop-all-capabilities", func(t *testing.T, d *appsv1.Deployment) {
		for _, c := range d.Spec.Template.Spec.Containers {
			require.NotNil(t, c.SecurityContext, "container %s", c.Name)
			require.NotNil(t, c.SecurityContext.Capabilities, "container %s", c.Name)
			require.Contains(t, c.SecurityContext.Capabilities.Drop, corev1.Capability("ALL"), "container %s", c.Name)
			require.Empty(t, c.SecurityContext.Capabilities.Add, "container %s", c.Name)
		}
	}},
	{"health-probes", func(t *testing.T, d *appsv1.Deployment) {
		for _, c := range d.Spec.Template.Spec.Containers {
			requireHTTPProbe(t, c, c.LivenessProbe, "/healthz")
			requireHTTPProbe(t, c, c.ReadinessProbe, "/readyz")
		}
	}},
}

// requireHTTPProbe checks that probe asks Cairn's HTTP port for path.
func requireHTTPProbe(t *testing.T, c corev1.Container, probe *corev1.Probe, path string) {
	t.Helper()
	require.NotNil(t, probe, "container %s: no probe for %s", c.Name, path)
	require.NotNil(t, probe.HTTPGet, "container %s: the probe for %s is not an HTTP GET", c.Name, path)
	require.Equal(t, path, probe.HTTPGet.Path)
	require.Equal(t, int32(8080), containerPort(t, c, probe.HTTPGet.Port), "the probe for %s asks Cairn's HTTP port", path)
}

// containerPort resolves a port given by name or number.
func containerPort(t *testing.T, c corev1.Container, port intstr.IntOrString) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port %s", c.Name, port.String())
	return 0
}

func TestTheDeploymentPassesTheSeedsGuardrails(t *testing.T) {
	for _, overlay := range deploytest.Overlays {
		t.Run(overlay, func(t *testing.T) {
			objs, err := deploytest.Render(overlay)
			require.NoError(t, err)
			d := typed[appsv1.Deployment](t, deploytest.Find(objs, "Deployment", "cairn"))
			require.NotEmpty(t, d.Spec.Template.Spec.Containers)
			for _, rule := range guardrails {
				t.Run(rule.name, func(t *testing.T) { rule.check(t, d) })
			}
		})
	}
}

// TestCairnAcceptsTheConfigTheManifestsGiveIt loads Cairn's settings as
// the container would: its arguments, its environment and the ConfigMap's
// file. Values the cluster fills in (the pod's namespace, the PostgreSQL
// Secret) are stood in for.
func TestCairnAcceptsTheConfigTheManifestsGiveIt(t *testing.T) {
	wantStore := map[string]string{
		"sqlite":   "sqlite:/var/lib/cairn/cairn.db",
		"postgres": "postgres://cairn:secret@db.internal:5432/cairn?sslmode=require", // stands in for the Secret's value
	}
	for _, overlay := range deploytest.Overlays {
		t.Run(overlay, func(t *testing.T) {
			objs, err := deploytest.Render(overlay)
			require.NoError(t, err)
			d := typed[appsv1.Deployment](t, deploytest.Find(objs, "Deployment", "cairn"))
			c := d.Spec.Template.Spec.Containers[0]

			// The config file, where the ConfigMap volume mounts it.
			var configMap *corev1.ConfigMap
			var mountPath string
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.ConfigMap == nil {
					continue
				}
				obj := deploytest.Find(objs, "ConfigMap", v.ConfigMap.Name)
				require.NotNil(t, obj, "the Deployment mounts ConfigMap %s, which is not rendered", v.ConfigMap.Name)
				configMap = typed[corev1.ConfigMap](t, obj)
				for _, m := range c.VolumeMounts {
					if m.Name == v.Name {
						mountPath = m.MountPath
					}
				}
			}
			require.NotNil(t, configMap)
			dir := t.TempDir()
			for name, content := range configMap.Data {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
			}
			require.Equal(t, "serve", c.Args[0])
			args := slices.Clone(c.Args[1:])
			for i, arg := range args {
				if strings.HasPrefix(arg, mountPath+"/") {
					args[i] = filepath.Join(dir, strings.TrimPrefix(arg, mountPath+"/"))
				}
			}

			namespace := d.Namespace
			env := map[string]string{}
			for _, e := range c.Env {
				switch {
				case e.ValueFrom == nil:
					env[e.Name] = e.Value
				case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
					env[e.Name] = namespace
				case e.ValueFrom.SecretKeyRef != nil:
					env[e.Name] = wantStore["postgres"]
				default:
					t.Fatalf("env %s: a source this test does not stand in for", e.Name)
				}
			}
			cfg, err := server.LoadConfig(args, func(name string) string { return env[name] }, os.Stderr)
			require.NoError(t, err)

			require.Equal(t, wantStore[overlay], cfg.Store)
			require.Equal(t, ":9090", cfg.GRPCAddr)
			require.Equal(t, ":8080", cfg.HTTPAddr)
			require.Equal(t, int32(9090), containerPort(t, c, intstr.FromString("grpc")))
			require.Equal(t, int32(8080), containerPort(t, c, intstr.FromString("http")))
			require.Empty(t, cfg.Kubernetes.Kubeconfig, "in the cluster, Cairn uses its service account")

			// The rights and the settings name the same things.
			role := typed[rbacv1.Role](t, deploytest.Find(objs, "Role", "cairn-leader-election"))
			require.Equal(t, role.Namespace, cfg.Kubernetes.LeaseNamespace, "the Lease is where the Role allows it")
			var leaseNames []string
			for _, rule := range role.Rules {
				leaseNames = append(leaseNames, rule.ResourceNames...)
			}
			require.Contains(t, leaseNames, kube.LeaseName, "the Role names Cairn's Lease")
			clusterRole := typed[rbacv1.ClusterRole](t, deploytest.Find(objs, "ClusterRole", "cairn"))
			var groups []string
			for _, rule := range clusterRole.Rules {
				groups = append(groups, rule.APIGroups...)
			}
			require.Contains(t, groups, cfg.Kubernetes.ClaimGroup, "the ClusterRole covers the configured claim group")
			require.Contains(t, groups, manifest.ArgoCDGroup, "the ClusterRole covers Argo CD's Applications")
		})
	}
}

// TestTheObjectsReferToEachOther checks the names that tie the objects
// together, which the API server does not check.
func TestTheObjectsReferToEachOther(t *testing.T) {
	for _, overlay := range deploytest.Overlays {
		t.Run(overlay, func(t *testing.T) {
			objs, err := deploytest.Render(overlay)
			require.NoError(t, err)
			d := typed[appsv1.Deployment](t, deploytest.Find(objs, "Deployment", "cairn"))
			pod := d.Spec.Template
			c := pod.Spec.Containers[0]

			require.NotNil(t, deploytest.Find(objs, "ServiceAccount", pod.Spec.ServiceAccountName))
			for _, v := range pod.Spec.Volumes {
				if v.PersistentVolumeClaim != nil {
					require.NotNil(t, deploytest.Find(objs, "PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName))
				}
			}
			for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
				for _, obj := range objs {
					if obj.GetKind() != kind {
						continue
					}
					binding := typed[rbacv1.RoleBinding](t, obj)
					require.NotNil(t, deploytest.Find(objs, binding.RoleRef.Kind, binding.RoleRef.Name), "%s %s", kind, binding.Name)
					require.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: pod.Spec.ServiceAccountName, Namespace: d.Namespace}},
						binding.Subjects, "%s %s binds Cairn's service account", kind, binding.Name)
				}
			}

			svc := typed[corev1.Service](t, deploytest.Find(objs, "Service", "cairn"))
			requireSelects(t, svc.Spec.Selector, pod.Labels, "Service")
			var svcPorts []string
			for _, p := range svc.Spec.Ports {
				containerPort(t, c, p.TargetPort)
				svcPorts = append(svcPorts, p.Name)
			}
			require.ElementsMatch(t, []string{"grpc", "http"}, svcPorts)

			pdb := deploytest.Find(objs, "PodDisruptionBudget", "cairn")
			selector, _, _ := unstructured.NestedStringMap(pdb.Object, "spec", "selector", "matchLabels")
			requireSelects(t, selector, pod.Labels, "PodDisruptionBudget")

			monitor := deploytest.Find(objs, "ServiceMonitor", "cairn")
			selector, _, _ = unstructured.NestedStringMap(monitor.Object, "spec", "selector", "matchLabels")
			requireSelects(t, selector, svc.Labels, "ServiceMonitor")
			endpoints, _, _ := unstructured.NestedSlice(monitor.Object, "spec", "endpoints")
			require.Len(t, endpoints, 1)
			require.Equal(t, "http", endpoints[0].(map[string]any)["port"])
			require.Equal(t, "/metrics", endpoints[0].(map[string]any)["path"])
		})
	}
}

// TestBothOverlaysGiveCairnTheSameRights: the least-privilege test runs
// Cairn with the SQLite overlay's roles, which stand for both.
func TestBothOverlaysGiveCairnTheSameRights(t *testing.T) {
	rendered := map[string][]*unstructured.Unstructured{}
	for _, overlay := range deploytest.Overlays {
		objs, err := deploytest.Render(overlay)
		require.NoError(t, err)
		rendered[overlay] = objs
	}
	for _, kind := range []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount"} {
		for _, obj := range rendered["sqlite"] {
			if obj.GetKind() == kind {
				require.Equal(t, obj, deploytest.Find(rendered["postgres"], kind, obj.GetName()), "%s %s", kind, obj.GetName())
			}
		}
	}
}

func requireSelects(t *testing.T, selector, labels map[string]string, what string) {
	t.Helper()
	require.NotEmpty(t, selector, what)
	for k, v := range selector {
		require.Equal(t, v, labels[k], "%s selects on %s", what, k)
	}
}

// typed converts a rendered object to its Go type.
func typed[T any](t *testing.T, obj *unstructured.Unstructured) *T {
	t.Helper()
	require.NotNil(t, obj)
	out := new(T)
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, out, true))
	return out
}
