package kube

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// competing for it again whenever it loses it, until ctx is done, and
// returns once lead has returned and the Lease is released. Only the
// leader reconciles; every replica serves reads.
//
// client-go's elector starts OnStartedLeading on a goroutine it does not
// wait for, and its ReleaseOnCancel gives the Lease up as soon as renewing
// stops, whether or not that goroutine has returned. So the elector here
// only elects: lead runs one term at a time under a lock, the Lease is
// renewed until lead has returned on shutdown, and released after.
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

	// electing outlives ctx while lead runs, so that the Lease stays this
	// replica's until lead has returned.
	electing, stopElecting := context.WithCancel(context.WithoutCancel(ctx))
	// leading is held while lead runs: a term that begins while the last
	// one's lead is still returning waits for it, so two never run at once.
	var (
		leading sync.Mutex
		stopped bool // no term runs lead any more
	)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:          lock,
		LeaseDuration: LeaseDuration,
		RenewDeadline: renewDeadline,
		RetryPeriod:   retryPeriod,
		Name:          LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(term context.Context) {
				leading.Lock()
				defer leading.Unlock()
				// The elector may start this after its term ended.
				if stopped || term.Err() != nil || ctx.Err() != nil {
					return
				}
				leadCtx, cancel := context.WithCancel(term)
				defer cancel()
				defer context.AfterFunc(ctx, cancel)()
				logger.Info("leading: reconciling", "identity", identity)
				lead(leadCtx)
				logger.Info("reconciling stopped", "identity", identity)
			},
			OnStoppedLeading: func() {}, // required; the end of lead is logged above
		},
	})
	if err != nil {
		stopElecting()
		return err
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopElecting()
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-electing.Done():
			return
		}
		leading.Lock() // lead has returned
		stopped = true
		leading.Unlock()
		stopElecting()
	})
	for electing.Err() == nil {
		elector.Run(electing) // returns when the term ends, or electing is done
		if !elector.IsLeader() {
			continue // this replica did not hold the Lease
		}
		leading.Lock() // this term's lead has returned, or will not run
		released, err := release(ctx, lock, identity)
		leading.Unlock()
		switch {
		case err != nil:
			logger.Warn("could not release the lease: another replica leads once it expires", "error", err)
		case released:
			logger.Info("lease released", "identity", identity)
		}
	}
	return nil
}

// release gives up the Lease if it still names identity, so that another
// replica may lead at once rather than when it expires.
func release(ctx context.Context, lock resourcelock.Interface, identity string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), renewDeadline)
	defer cancel()
	record, _, err := lock.Get(ctx)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil || record.HolderIdentity != identity {
		return false, err
	}
	now := metav1.Now()
	err = lock.Update(ctx, resourcelock.LeaderElectionRecord{
		LeaseDurationSeconds: 1,
		AcquireTime:          now,
		RenewTime:            now,
		LeaderTransitions:    record.LeaderTransitions,
	})
	return err == nil, err
}
