package kube_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube"
)

func holderOf(lease *coordinationv1.Lease) string {
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// Stopped while lead still runs, the leader goes on renewing the Lease
// until lead returns, and releases it only then: another replica cannot
// start reconciling beside a lead that has not finished.
func TestTheLeaseIsRenewedUntilLeadReturnsAndReleasedAfter(t *testing.T) {
	env := kubetest.Start(t)
	client, err := kubernetes.NewForConfig(env.Config())
	require.NoError(t, err)
	getLease := func(ctx context.Context) (*coordinationv1.Lease, error) {
		return client.CoordinationV1().Leases("default").Get(ctx, kube.LeaseName, metav1.GetOptions{})
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leading := make(chan struct{})
	var leads, running atomic.Int32
	var heldWhileLeadRan atomic.Bool
	lead := func(leadCtx context.Context) {
		if running.Add(1) != 1 {
			t.Error("two leads ran at once")
		}
		defer running.Add(-1)
		leads.Add(1)
		close(leading)
		<-leadCtx.Done()
		// Check with a context of its own: lead's is done.
		check, stop := context.WithTimeout(context.Background(), kube.LeaseDuration+30*time.Second)
		defer stop()
		atCancel, err := getLease(check)
		if !assert.NoError(t, err) {
			return
		}
		heldWhileLeadRan.Store(assert.Eventually(t, func() bool {
			now, err := getLease(check)
			return err == nil && holderOf(now) == holderOf(atCancel) && holderOf(now) != "" &&
				now.Spec.RenewTime.After(atCancel.Spec.RenewTime.Time)
		}, kube.LeaseDuration+30*time.Second, 100*time.Millisecond, "the lease was not renewed while lead ran"))
	}
	done := make(chan error, 1)
	go func() { done <- kube.RunAsLeader(ctx, env.Config(), "default", slog.New(slog.DiscardHandler), lead) }()

	<-leading
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, int32(1), leads.Load())
	require.Zero(t, running.Load(), "lead returned before RunAsLeader")
	require.True(t, heldWhileLeadRan.Load())
	lease, err := getLease(t.Context())
	require.NoError(t, err)
	require.Empty(t, holderOf(lease), "released once lead returned")
}
