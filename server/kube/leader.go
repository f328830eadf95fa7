package kube

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaseName is the Lease the replicas of Cairn elect their leader with.
const LeaseName = "cairn-leader"

// Lease timings: a new leader takes over within LeaseDuration of the old
// one's last renewal.
const (
	LeaseDuration = 15 * time.Second
	renewDeadline = 10 * time.Second
	retryPeriod   = 2 * time.Second
)

// RunAsLeader runs lead while this process holds the Lease in namespace,
// competing for it again whenever it loses it, until ctx is done. Only the
// leader reconciles; every replica serves reads.
func RunAsLeader(ctx context.Context, cfg *rest.Config, namespace string, logger *slog.Logger, lead func(context.Context)) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	identity := fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano())
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, namespace, LeaseName,
		client.CoreV1(), client.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: identity})
	if err != nil {
		return err
	}
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   LeaseDuration,
		RenewDeadline:   renewDeadline,
		RetryPeriod:     retryPeriod,
		ReleaseOnCancel: true,
		Name:            LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				logger.Info("leading: reconciling", "identity", identity)
				lead(ctx)
			},
			OnStoppedLeading: func() { logger.Info("no longer leading", "identity", identity) },
		},
	})
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		elector.Run(ctx) // returns when leadership is lost
	}
	return nil
}
