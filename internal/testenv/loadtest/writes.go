package loadtest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// WriteLog keeps every create and deployment a load sent, whether Cairn
// acknowledged it, and how often it answered that a deployment was newly
// recorded: what the store and the cluster are checked against. It is
// safe for concurrent use; a nil WriteLog logs nothing.
type WriteLog struct {
	mu      sync.Mutex
	creates map[string]*write[*cairnv1.CreateServiceRequest]
	deploys map[DeploymentKey]*write[*cairnv1.RecordDeploymentRequest]
	// newlyRecorded counts the answers created=true, for each key.
	newlyRecorded map[DeploymentKey]int
}

type write[T any] struct {
	req   T
	acked bool
}

// DeploymentKey is what makes a deployment one: Cairn records it once.
type DeploymentKey struct {
	Service, Environment, Revision string
	StartedAt                      time.Time
}

func deploymentKey(req *cairnv1.RecordDeploymentRequest) DeploymentKey {
	return DeploymentKey{req.GetService(), req.GetEnvironment(), req.GetRevision(), req.GetStartedAt().AsTime()}
}

// NewWriteLog returns an empty WriteLog.
func NewWriteLog() *WriteLog {
	return &WriteLog{
		creates:       map[string]*write[*cairnv1.CreateServiceRequest]{},
		deploys:       map[DeploymentKey]*write[*cairnv1.RecordDeploymentRequest]{},
		newlyRecorded: map[DeploymentKey]int{},
	}
}

func (w *WriteLog) create(req *cairnv1.CreateServiceRequest, err error) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	entry := w.creates[req.GetName()]
	if entry == nil {
		entry = &write[*cairnv1.CreateServiceRequest]{req: req}
		w.creates[req.GetName()] = entry
	}
	entry.acked = entry.acked || err == nil
}

func (w *WriteLog) deploy(req *cairnv1.RecordDeploymentRequest, created bool, err error) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	key := deploymentKey(req)
	entry := w.deploys[key]
	if entry == nil {
		entry = &write[*cairnv1.RecordDeploymentRequest]{req: req}
		w.deploys[key] = entry
	}
	entry.acked = entry.acked || err == nil
	if err == nil && created {
		w.newlyRecorded[key]++
	}
}

// Resend sends every write not yet acknowledged again, with the same
// request, until each is acknowledged or ctx ends: what a client does once
// the server is back. It returns how many it resent.
func (w *WriteLog) Resend(ctx context.Context, client Client) (int, error) {
	w.mu.Lock()
	var creates []*cairnv1.CreateServiceRequest
	for _, e := range w.creates {
		if !e.acked {
			creates = append(creates, e.req)
		}
	}
	var deploys []*cairnv1.RecordDeploymentRequest
	for _, e := range w.deploys {
		if !e.acked {
			deploys = append(deploys, e.req)
		}
	}
	w.mu.Unlock()
	for _, req := range creates {
		err := retry(ctx, func() error {
			err := client.Create(ctx, req)
			w.create(req, err)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	for _, req := range deploys {
		err := retry(ctx, func() error {
			created, err := client.Deploy(ctx, req)
			w.deploy(req, created, err)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	return len(creates) + len(deploys), nil
}

// WriteSummary is what a WriteLog holds.
type WriteSummary struct {
	// Created are the services whose create was sent, sorted, and
	// CreatesAcked how many of them Cairn acknowledged.
	Created      []string
	CreatesAcked int
	// Deployments are the deployments sent, and DeploymentsAcked how many
	// Cairn acknowledged.
	Deployments      []DeploymentKey
	DeploymentsAcked int
	// NewlyRecordedTwice are deployments Cairn answered created=true more
	// than once: recorded twice.
	NewlyRecordedTwice []DeploymentKey
}

// Summary returns what the log holds.
func (w *WriteLog) Summary() WriteSummary {
	w.mu.Lock()
	defer w.mu.Unlock()
	var s WriteSummary
	s.Created = slices.Sorted(maps.Keys(w.creates))
	for _, e := range w.creates {
		if e.acked {
			s.CreatesAcked++
		}
	}
	for key, e := range w.deploys {
		s.Deployments = append(s.Deployments, key)
		if e.acked {
			s.DeploymentsAcked++
		}
		if w.newlyRecorded[key] > 1 {
			s.NewlyRecordedTwice = append(s.NewlyRecordedTwice, key)
		}
	}
	return s
}
