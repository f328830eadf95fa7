package loadtest

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Call is a kind of call the load makes.
type Call string

// The calls of the load: the three entity-page cards, and two writes.
const (
	CallCost   Call = "cost"
	CallStatus Call = "status"
	CallDora   Call = "dora"
	CallCreate Call = "create"
	CallDeploy Call = "deploy"
)

// readCalls are the entity-page reads.
var readCalls = []Call{CallCost, CallStatus, CallDora}

// callOrder is the order calls are reported in.
var callOrder = []Call{CallCost, CallStatus, CallDora, CallCreate, CallDeploy}

// Recorder collects the outcome of every call: the latency of each that
// succeeded, kept whole so that percentiles are exact, and a count of
// errors by kind. It is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	series map[seriesKey]*series
}

type seriesKey struct {
	protocol string
	call     Call
}

type series struct {
	latencies []time.Duration
	errors    map[string]int
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{series: map[seriesKey]*series{}} }

// Observe records one call.
func (r *Recorder) Observe(protocol string, call Call, latency time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := seriesKey{protocol, call}
	s := r.series[key]
	if s == nil {
		s = &series{errors: map[string]int{}}
		r.series[key] = s
	}
	if err != nil {
		s.errors[errorKind(err)]++
		return
	}
	s.latencies = append(s.latencies, latency)
}

// Counts is how many calls have succeeded and failed so far.
func (r *Recorder) Counts() (succeeded, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.series {
		succeeded += len(s.latencies)
		for _, n := range s.errors {
			failed += n
		}
	}
	return succeeded, failed
}

// Result is the summary of one kind of call over one protocol.
type Result struct {
	Protocol string
	// Call is a kind of call, or "reads" for the three cards together.
	Call      string
	Succeeded int
	PerSecond float64 // calls that succeeded, per second of the run
	P50, P99  time.Duration
	Max       time.Duration
	Errors    map[string]int
}

// ErrorCount is how many calls failed.
func (r Result) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// Results summarizes what was recorded over elapsed: per protocol, each
// kind of call and then the entity-page reads together.
func (r *Recorder) Results(elapsed time.Duration) []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	protocols := map[string]bool{}
	for key := range r.series {
		protocols[key.protocol] = true
	}
	var out []Result
	for _, protocol := range slices.Sorted(maps.Keys(protocols)) {
		var reads []*series
		for _, call := range callOrder {
			s := r.series[seriesKey{protocol, call}]
			if s == nil {
				continue
			}
			out = append(out, summarize(protocol, string(call), elapsed, s))
			if slices.Contains(readCalls, call) {
				reads = append(reads, s)
			}
		}
		if len(reads) > 0 {
			all := &series{errors: map[string]int{}}
			for _, s := range reads {
				all.latencies = append(all.latencies, s.latencies...)
				for kind, n := range s.errors {
					all.errors[kind] += n
				}
			}
			out = append(out, summarize(protocol, "reads", elapsed, all))
		}
	}
	return out
}

func summarize(protocol, call string, elapsed time.Duration, s *series) Result {
	sorted := slices.Clone(s.latencies)
	slices.Sort(sorted)
	res := Result{
		Protocol:  protocol,
		Call:      call,
		Succeeded: len(sorted),
		PerSecond: float64(len(sorted)) / elapsed.Seconds(),
		Errors:    maps.Clone(s.errors),
	}
	if len(sorted) > 0 {
		res.P50 = percentile(sorted, 0.50)
		res.P99 = percentile(sorted, 0.99)
		res.Max = sorted[len(sorted)-1]
	}
	return res
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// WriteTable writes results as a Markdown table.
func WriteTable(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| protocol | call | succeeded | calls/s | p50 | p99 | max | errors |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---|")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %s | %d | %.0f | %s | %s | %s | %s |\n", r.Protocol, r.Call, r.Succeeded, r.PerSecond,
			formatLatency(r.P50), formatLatency(r.P99), formatLatency(r.Max), formatErrors(r.Errors))
	}
}

func formatLatency(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

func formatErrors(errors map[string]int) string {
	if len(errors) == 0 {
		return "0"
	}
	var parts []string
	for _, kind := range slices.Sorted(maps.Keys(errors)) {
		parts = append(parts, fmt.Sprintf("%s: %d", kind, errors[kind]))
	}
	return strings.Join(parts, ", ")
}
