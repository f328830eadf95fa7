package main

// Several replicas: two cairn processes on one PostgreSQL database and one
// API server (envtest). Only the holder of the Lease reconciles; when it is
// killed with SIGKILL the other takes over once the Lease expires, and
// every create, made before, during or after the hand-over, converges on
// exactly its objects.

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// leadingLog is what a replica logs when it becomes the leader.
const leadingLog = "leading: reconciling"

func (p *cairnProcess) leads() bool { return strings.Contains(p.logs.String(), leadingLog) }

// durationsRecorded is how many resources this process saw become ready,
// from its platform_provisioning_duration_seconds histogram: only the
// reconciler, so only a leader, records them.
func (p *cairnProcess) durationsRecorded(t *testing.T) int {
	t.Helper()
	r := p.rest(t, "GET", "/metrics", nil)
	require.Equal(t, http.StatusOK, r.status)
	count := regexp.MustCompile(`(?m)^platform_provisioning_duration_seconds_count\{[^}]*\} (\d+)$`)
	total := 0
	for _, m := range count.FindAllStringSubmatch(r.raw, -1) {
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		total += n
	}
	return total
}

// markReady writes what Crossplane and Argo CD would once a service's
// claims and staging are up.
func markReady(t *testing.T, env *kubetest.Env, service string) {
	t.Helper()
	plan := servicePlan(service)
	env.MarkClaimReady(t, manifest.DatabaseClaim(plan, manifest.DefaultSettings()))
	env.MarkClaimReady(t, manifest.BucketClaim(plan, manifest.DefaultSettings()))
	env.MarkApplicationSynced(t, manifest.ApplicationName(service, "staging"), "abc123")
}

// requireExactlyItsObjects waits until each service has its claims and
// Applications, then requires one of each and nothing else Cairn applied
// under their names.
func requireExactlyItsObjects(t *testing.T, env *kubetest.Env, services []string) {
	t.Helper()
	for _, service := range services {
		require.Eventually(t, func() bool { return len(objectsOnCluster(t, env, service)) >= 4 },
			60*time.Second, 200*time.Millisecond, "%s's objects were not applied", service)
	}
	for _, service := range services {
		var names []string
		for _, obj := range objectsOnCluster(t, env, service) {
			names = append(names, obj.GetKind()+" "+obj.GetNamespace()+"/"+obj.GetName())
		}
		require.ElementsMatch(t, []string{
			"DatabaseClaim team-orders/" + manifest.DatabaseClaimName(service),
			"BucketClaim team-orders/" + manifest.BucketClaimName(service),
			"Application argocd/" + manifest.ApplicationName(service, "staging"),
			"Application argocd/" + manifest.ApplicationName(service, "production"),
		}, names)
	}
}

// removeAfterTest removes the services' objects from the shared API server
// when t ends, so that the test can run again on it.
func removeAfterTest(t *testing.T, env *kubetest.Env, services ...string) {
	t.Cleanup(func() {
		ctx, cancel := requestContext()
		defer cancel()
		for _, service := range services {
			for _, obj := range objectsOnCluster(t, env, service) {
				gvr, err := kindOf(obj.GroupVersionKind())
				require.NoError(t, err)
				err = env.Dynamic().Resource(gvr).Namespace(obj.GetNamespace()).Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
				if !apierrors.IsNotFound(err) {
					require.NoError(t, err)
				}
			}
		}
	})
}

// kindOf is the resource of a kind Cairn applies.
func kindOf(gvk schema.GroupVersionKind) (schema.GroupVersionResource, error) {
	for _, kind := range manifest.Kinds(manifest.DefaultSettings()) {
		if kind.GroupVersionKind == gvk {
			return kind.GroupVersionResource(), nil
		}
	}
	return schema.GroupVersionResource{}, fmt.Errorf("cairn does not apply %s", gvk)
}

func TestTwoReplicasHandOverReconcilingWhenTheLeaderIsKilled(t *testing.T) {
	env := kubetest.Shared(t)
	env.CreateNamespace(t, "team-orders")
	// A Lease of this test's own, apart from other tests on the shared API
	// server.
	const leaseNamespace = "cairn-replicas"
	env.CreateNamespace(t, leaseNamespace)
	admin, err := kubernetes.NewForConfig(env.Config())
	require.NoError(t, err)
	// A Lease left by an earlier run names a process that is gone.
	err = admin.CoordinationV1().Leases(leaseNamespace).Delete(t.Context(), kube.LeaseName, metav1.DeleteOptions{})
	if !apierrors.IsNotFound(err) {
		require.NoError(t, err)
	}
	storeURL := pgtest.Shared(t).NewDatabase(t)
	config := provisioningConfig(t)
	args := []string{"--kubeconfig", env.Kubeconfig(t), "--lease-namespace", leaseNamespace}

	replicas := []*cairnProcess{
		launchCairnWithConfig(t, storeURL, config, args...),
		launchCairnWithConfig(t, storeURL, config, args...),
	}
	for _, p := range replicas {
		p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	}
	var leader, follower *cairnProcess
	require.Eventually(t, func() bool {
		switch {
		case replicas[0].leads() && !replicas[1].leads():
			leader, follower = replicas[0], replicas[1]
		case replicas[1].leads() && !replicas[0].leads():
			leader, follower = replicas[1], replicas[0]
		default:
			return false
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "exactly one replica should lead")

	create := func(p *cairnProcess, service string) restResponse {
		r := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", createBody(service, "create-"+service))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		return r
	}
	names := func(phase string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("ha-%s-%d", phase, i))
		}
		removeAfterTest(t, env, out...)
		return out
	}

	// Before: creates through both replicas, which both serve; only the
	// leader applies them and records their readiness.
	before := names("before", 4)
	firstResponses := map[string]string{}
	for i, service := range before {
		r := create(replicas[i%2], service)
		firstResponses[service] = r.raw
	}
	requireExactlyItsObjects(t, env, before)
	for _, service := range before {
		markReady(t, env, service)
	}
	for _, service := range before {
		follower.waitPhase(t, service, "ready") // every replica reads status from its informers
	}
	require.Eventually(t, func() bool { return leader.durationsRecorded(t) == 2*len(before) },
		30*time.Second, 100*time.Millisecond, "the leader records each claim's provisioning time once")
	require.Zero(t, follower.durationsRecorded(t), "the follower does not reconcile")
	require.False(t, follower.leads())

	// The leader dies without releasing its Lease.
	require.NoError(t, leader.cmd.Process.Signal(syscall.SIGKILL))
	<-leader.exited
	killed := time.Now()
	lease, err := admin.CoordinationV1().Leases(leaseNamespace).Get(t.Context(), kube.LeaseName, metav1.GetOptions{})
	require.NoError(t, err)
	deadLeader, lastRenewal := *lease.Spec.HolderIdentity, lease.Spec.RenewTime.Time

	// During: the survivor takes creates, and retries of creates made
	// before, while the Lease still names the dead leader.
	during := names("during", 4)
	for _, service := range during {
		create(follower, service)
	}
	for _, service := range before {
		retry := follower.restAs(t, ordersDeveloperToken, "POST", "/v1/services", createBody(service, "create-"+service))
		require.Equal(t, http.StatusOK, retry.status, retry.raw)
		require.JSONEq(t, firstResponses[service], retry.raw, "a retried create returns what the first recorded")
	}
	require.False(t, follower.leads(), "the creates were made before the hand-over")

	// The survivor leads once the Lease expires: LeaseDuration after the
	// dead leader's last renewal, plus at most the survivor's retry period.
	require.Eventually(t, follower.leads, kube.LeaseDuration+30*time.Second, 100*time.Millisecond,
		"the survivor did not take over the Lease")
	tookOver := time.Now()
	lease, err = admin.CoordinationV1().Leases(leaseNamespace).Get(t.Context(), kube.LeaseName, metav1.GetOptions{})
	require.NoError(t, err)
	require.NotEqual(t, deadLeader, *lease.Spec.HolderIdentity)
	require.Equal(t, new(int32(1)), lease.Spec.LeaseTransitions, "the Lease changed hands once")
	handOver := lease.Spec.AcquireTime.Sub(lastRenewal)
	require.GreaterOrEqual(t, handOver, kube.LeaseDuration,
		"the survivor waited for the dead leader's Lease to expire: never two leaders at once")
	t.Logf("hand-over: the survivor acquired the Lease %s after the dead leader's last renewal (lease duration %s), "+
		"and was reconciling %s after the kill",
		handOver.Round(100*time.Millisecond), kube.LeaseDuration, tookOver.Sub(killed).Round(100*time.Millisecond))

	// After: creates on the new leader.
	after := names("after", 4)
	for _, service := range after {
		create(follower, service)
	}

	all := append(append(append([]string{}, before...), during...), after...)
	requireExactlyItsObjects(t, env, all)
	for _, service := range append(append([]string{}, during...), after...) {
		markReady(t, env, service)
	}
	for _, service := range all {
		follower.waitPhase(t, service, "ready")
	}
	// The services that became ready before the hand-over are not counted
	// again: readiness is recorded in the store.
	require.Eventually(t, func() bool { return follower.durationsRecorded(t) == 2*(len(during)+len(after)) },
		30*time.Second, 100*time.Millisecond, "the new leader records each claim's provisioning time once")

	// The store holds each service once.
	list := follower.rest(t, "GET", "/v1/services?pageSize=100", nil)
	require.Equal(t, http.StatusOK, list.status, list.raw)
	var listed []string
	for _, s := range list.body["services"].([]any) {
		listed = append(listed, strings.TrimPrefix(s.(map[string]any)["name"].(string), "services/"))
	}
	require.ElementsMatch(t, all, listed)
}
