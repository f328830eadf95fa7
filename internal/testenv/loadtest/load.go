package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// Mix weighs the kinds of call in a load: a call is of kind k with
// probability Mix[k] / the sum of the weights.
type Mix map[Call]int

// DefaultMix is an entity page's three cards in equal shares, with one
// create in a thousand calls: each create gives the cluster four objects
// that Cairn applies again every minute, so a larger share would measure
// the reconciler of an ever-growing fleet rather than the reads.
var DefaultMix = Mix{CallCost: 333, CallStatus: 333, CallDora: 333, CallCreate: 1}

// ParseMix reads a mix such as "cost=33,status=33,dora=33,create=1".
func ParseMix(s string) (Mix, error) {
	mix := Mix{}
	for part := range strings.SplitSeq(s, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.Atoi(weight)
		if !ok || err != nil || w < 0 {
			return nil, fmt.Errorf("mix %q: want call=weight, such as cost=33", part)
		}
		if !slices.Contains(callOrder, Call(name)) {
			return nil, fmt.Errorf("mix: unknown call %q (want cost, status, dora, create or deploy)", name)
		}
		mix[Call(name)] = w
	}
	total := 0
	for _, w := range mix {
		total += w
	}
	if total == 0 {
		return nil, errors.New("mix: every weight is 0")
	}
	return mix, nil
}

func (m Mix) String() string {
	var parts []string
	for _, call := range callOrder {
		if m[call] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", call, m[call]))
		}
	}
	return strings.Join(parts, ",")
}

// Profile is what a load does: which calls, how fast, for how long.
type Profile struct {
	Fleet Fleet
	Mix   Mix
	// Rate is how many calls a second to start, at evenly spaced times
	// whether or not earlier calls have returned (an open loop): a call's
	// latency counts from when it was due, so that a server that falls
	// behind shows it in the latencies instead of slowing the generator
	// down. 0 is a closed loop: Workers callers, each starting its next
	// call when the last returns, as fast as the server answers.
	Rate float64
	// Workers is how many calls may be in flight at once.
	Workers int
	// Warmup is run first and not recorded; Duration is then recorded.
	Warmup, Duration time.Duration
	// Run names the services the load creates and the revisions it deploys,
	// so that runs on one fleet stay apart.
	Run string
}

// Load is one run of a Profile against Cairn over one client.
type Load struct {
	Profile
	Client   Client
	Recorder *Recorder
	// Writes, when not nil, logs every create and deployment the load
	// sends and whether Cairn acknowledged it, for checking afterwards.
	Writes *WriteLog

	picker  []Call // each call repeated as often as its weight
	creates atomic.Int64
	deploys atomic.Int64
	calls   atomic.Int64 // made, warm-up included
}

// Calls is how many calls the load has made, warm-up included.
func (l *Load) Calls() int64 { return l.calls.Load() }

// Execute runs the load: Warmup, then Duration recorded. It returns when
// the last call has returned.
func (l *Load) Execute(ctx context.Context) error {
	if l.Workers < 1 {
		return errors.New("load: at least one worker is needed")
	}
	for _, call := range callOrder {
		for range l.Mix[call] {
			l.picker = append(l.picker, call)
		}
	}
	if len(l.picker) == 0 {
		return errors.New("load: empty mix")
	}
	start := time.Now()
	recordFrom := start.Add(l.Warmup)
	end := recordFrom.Add(l.Duration)
	var wg sync.WaitGroup
	if l.Rate > 0 {
		due := make(chan time.Time, max(int(l.Rate), l.Workers))
		for w := range l.Workers {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			wg.Go(func() {
				for at := range due {
					l.call(ctx, rng, at, !at.Before(recordFrom))
				}
			})
		}
		pace(ctx, l.Rate, start, end, due)
	} else {
		for w := range l.Workers {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			wg.Go(func() {
				for {
					now := time.Now()
					if !now.Before(end) || ctx.Err() != nil {
						return
					}
					l.call(ctx, rng, now, !now.Before(recordFrom))
				}
			})
		}
	}
	wg.Wait()
	return ctx.Err()
}

// pace sends due the times calls are due, rate a second from start until
// end or ctx ends, then closes it. Sends wait for a worker to take them:
// the times keep to the schedule, and the latency of a late call counts
// from its time.
func pace(ctx context.Context, rate float64, start, end time.Time, due chan<- time.Time) {
	defer close(due)
	interval := time.Duration(float64(time.Second) / rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for next := start; next.Before(end); next = next.Add(interval) {
		// Sleeping less than a timer's resolution would only spin: calls
		// due within it go out together.
		if wait := time.Until(next); wait > 200*time.Microsecond {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		select {
		case <-ctx.Done():
			return
		case due <- next:
		}
	}
}

// call makes one call of the mix, from startedAt, and records it when
// record is set.
func (l *Load) call(ctx context.Context, rng *rand.Rand, startedAt time.Time, record bool) {
	kind := l.picker[rng.IntN(len(l.picker))]
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var err error
	switch kind {
	case CallCost:
		err = l.Client.Cost(ctx, l.Fleet.Name(rng.IntN(l.Fleet.Services)))
	case CallDora:
		err = l.Client.Dora(ctx, l.Fleet.Name(rng.IntN(l.Fleet.Services)))
	case CallStatus:
		err = l.Client.Status(ctx, l.Fleet.Name(l.Fleet.ProvisionedIndex(rng.IntN(l.Fleet.ProvisionedCount()))))
	case CallCreate:
		n := int(l.creates.Add(1))
		req := CreateRequest(l.Fleet.NewServiceName(l.Run, n), TeamName(n%l.Fleet.Teams))
		err = l.Client.Create(ctx, req)
		l.Writes.create(req, err)
	case CallDeploy:
		req := l.deployment(int(l.deploys.Add(1)), rng.IntN(l.Fleet.Services), time.Now())
		var created bool
		created, err = l.Client.Deploy(ctx, req)
		l.Writes.deploy(req, created, err)
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return // the run was stopped: no answer was awaited
	}
	l.calls.Add(1)
	if record {
		l.Recorder.Observe(l.Client.Protocol(), kind, time.Since(startedAt), err)
	}
}

// deployment is the n-th deployment the load reports: a production
// deployment of service i that finished a minute ago, with one commit.
func (l *Load) deployment(n, i int, now time.Time) *cairnv1.RecordDeploymentRequest {
	finished := now.Add(-time.Minute).Truncate(time.Microsecond)
	return &cairnv1.RecordDeploymentRequest{
		Service:     l.Fleet.Name(i),
		Environment: "production",
		Revision:    fmt.Sprintf("%s-%d", l.Run, n),
		Status:      "succeeded",
		StartedAt:   timestamppb.New(finished.Add(-5 * time.Minute)),
		FinishedAt:  timestamppb.New(finished),
		Commits: []*cairnv1.Commit{{
			Sha:         fmt.Sprintf("%x", uint32(n)*2654435761),
			CommittedAt: timestamppb.New(finished.Add(-2 * time.Hour)),
		}},
	}
}
