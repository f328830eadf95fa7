package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Target is a running Cairn and how to reach it.
type Target struct {
	// RESTURL is the HTTP port's base URL, such as http://localhost:8080;
	// its /metrics is read for memory and goroutines.
	RESTURL string
	// GRPCAddr is the gRPC port, such as localhost:9090.
	GRPCAddr string
	// Token is a bearer token with the admin role (creates need a team's
	// developer; the seed's import needs admin).
	Token string
	// PID is the server's process, when it runs on this machine: its VmRSS
	// is read then, else process_resident_memory_bytes from /metrics.
	PID int
	// Conns is how many connections each protocol's client opens:
	// kept-alive HTTP/1.1 connections (at most one per call in flight) and
	// HTTP/2 connections for gRPC.
	RESTConns, GRPCConns int
}

// NewClient returns the target's client for protocol, "rest" or "grpc".
func (t Target) NewClient(protocol string) (Client, error) {
	switch protocol {
	case "rest":
		return RESTClient(t.RESTURL, t.Token, t.RESTConns), nil
	case "grpc":
		return GRPCClient(t.GRPCAddr, t.Token, t.GRPCConns)
	}
	return nil, fmt.Errorf("unknown protocol %q: want rest or grpc", protocol)
}

// Ready says whether the target answers /readyz: it serves, and its store
// answers.
func (t Target) Ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.RESTURL+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Observer returns an observer of the target's memory and goroutines.
func (t Target) Observer() *Observer {
	return &Observer{MetricsURL: t.RESTURL + "/metrics", PID: t.PID}
}

// Measurement is a load run once per protocol, one protocol after the
// other, with the same calls.
type Measurement struct {
	Target    Target
	Protocols []string
	// Profile is the load of each protocol; Run is suffixed with the
	// protocol's initial, to keep the two runs' creates apart.
	Profile Profile
	// SampleEvery is how often the server's memory is read (from /proc
	// when Target.PID is set, else from /metrics).
	SampleEvery time.Duration
}

// Phase is the outcome of one protocol's run.
type Phase struct {
	Protocol string
	Results  []Result
	Samples  []Sample
	// Calls is how many calls were made, warm-up included, in Elapsed;
	// ServerCPU (known with Target.PID) and ClientCPU are the CPU time the
	// server and the load generator used meanwhile.
	Calls                int64
	Elapsed              time.Duration
	ServerCPU, ClientCPU time.Duration
}

// Measure runs the measurement and writes its report to out: a Markdown
// table of every call per protocol, and the server's memory.
func Measure(ctx context.Context, m Measurement, out io.Writer) ([]Phase, error) {
	var phases []Phase
	for _, protocol := range m.Protocols {
		client, err := m.Target.NewClient(protocol)
		if err != nil {
			return nil, err
		}
		load := &Load{Profile: m.Profile, Client: client, Recorder: NewRecorder()}
		load.Run += protocol[:1]
		// /metrics once at the start and once at the end, /proc in between.
		start, clientCPU := time.Now(), ownCPU()
		stopWatching := m.Target.Observer().WatchInBackground(ctx, m.SampleEvery, 0)
		err = load.Execute(ctx)
		samples := stopWatching()
		client.Close()
		if err != nil {
			return nil, err
		}
		phases = append(phases, Phase{
			Protocol: protocol, Results: load.Recorder.Results(load.Duration), Samples: samples,
			Calls: load.Calls(), Elapsed: time.Since(start), ClientCPU: ownCPU() - clientCPU,
			ServerCPU: samples[len(samples)-1].CPU - samples[0].CPU,
		})
	}
	WriteReport(out, m, phases)
	return phases, nil
}

// WriteReport writes the phases' figures.
func WriteReport(out io.Writer, m Measurement, phases []Phase) {
	pace := "closed loop"
	if m.Profile.Rate > 0 {
		pace = fmt.Sprintf("%.0f calls/s", m.Profile.Rate)
	}
	fmt.Fprintf(out, "%d services, mix %s, %s, %d workers, %s recorded after %s of warm-up, per protocol\n\n",
		m.Profile.Fleet.Services, m.Profile.Mix, pace, m.Profile.Workers, m.Profile.Duration, m.Profile.Warmup)
	var all []Result
	for _, p := range phases {
		all = append(all, p.Results...)
	}
	WriteTable(out, all)
	fmt.Fprintln(out)
	for _, p := range phases {
		peak, last := Peak(p.Samples)
		fmt.Fprintf(out, "server during %s: resident memory peak %s", p.Protocol, MB(peak.RSS))
		if peak.AnonRSS > 0 {
			fmt.Fprintf(out, " (anonymous %s)", MB(peak.AnonRSS))
		}
		fmt.Fprintf(out, ", at the end %s; goroutines at the end %d\n", MB(last.RSS), last.Goroutines)
		if p.Calls > 0 {
			fmt.Fprintf(out, "CPU during %s: server %.0f µs a call (%.2f cores), load generator %.0f µs a call (%.2f cores)\n",
				p.Protocol, perCall(p.ServerCPU, p.Calls), cores(p.ServerCPU, p.Elapsed),
				perCall(p.ClientCPU, p.Calls), cores(p.ClientCPU, p.Elapsed))
		}
	}
	if reads := readsPerSecond(phases); len(reads) == 2 && reads["grpc"] > 0 {
		fmt.Fprintf(out, "entity-page reads, REST / gRPC: %.2f\n", reads["rest"]/reads["grpc"])
	}
}

// readsPerSecond is each protocol's entity-page reads per second.
func readsPerSecond(phases []Phase) map[string]float64 {
	out := map[string]float64{}
	for _, p := range phases {
		for _, r := range p.Results {
			if r.Call == "reads" {
				out[p.Protocol] = r.PerSecond
			}
		}
	}
	return out
}

func perCall(cpu time.Duration, calls int64) float64 {
	return float64(cpu.Microseconds()) / float64(calls)
}

func cores(cpu, elapsed time.Duration) float64 { return cpu.Seconds() / elapsed.Seconds() }
