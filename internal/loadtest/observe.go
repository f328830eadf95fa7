package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sample is what the server reported of itself at one time.
type Sample struct {
	Time time.Time
	// RSS is the resident memory in bytes: the process's VmRSS when the
	// observer knows its pid, else its process_resident_memory_bytes.
	RSS        int64
	Goroutines int
	// Err is why the server could not be read, such as while it restarts.
	Err error
}

// Observer reads a Cairn server's resident memory and goroutine count from
// its /metrics (go_goroutines, process_resident_memory_bytes), and the
// resident memory from /proc/PID/status when PID is set, as the kernel
// counts it.
type Observer struct {
	// MetricsURL is the server's /metrics, such as http://localhost:8080/metrics.
	MetricsURL string
	// PID is the server's process, when on this machine; 0 if not.
	PID    int
	client http.Client
}

// Sample reads the server once.
func (o *Observer) Sample(ctx context.Context) Sample {
	s := Sample{Time: time.Now()}
	metrics, err := o.scrape(ctx)
	if err != nil {
		s.Err = err
		return s
	}
	s.Goroutines = int(metrics["go_goroutines"])
	s.RSS = int64(metrics["process_resident_memory_bytes"])
	if o.PID != 0 {
		if s.RSS, err = vmRSS(o.PID); err != nil {
			s.Err = err
		}
	}
	return s
}

// Watch samples the server every interval until ctx ends, and returns what
// it saw.
func (o *Observer) Watch(ctx context.Context, interval time.Duration) []Sample {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var samples []Sample
	for {
		samples = append(samples, o.Sample(ctx))
		select {
		case <-ctx.Done():
			return samples
		case <-ticker.C:
		}
	}
}

// WatchInBackground is Watch on its own goroutine: stop ends it and
// returns the samples.
func (o *Observer) WatchInBackground(ctx context.Context, interval time.Duration) (stop func() []Sample) {
	ctx, cancel := context.WithCancel(ctx)
	var samples []Sample
	var wg sync.WaitGroup
	wg.Go(func() { samples = o.Watch(ctx, interval) })
	return func() []Sample {
		cancel()
		wg.Wait()
		return samples
	}
}

// scrape reads the unlabelled samples of the metrics the observer wants.
func (o *Observer) scrape(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.MetricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", o.MetricsURL, resp.Status)
	}
	return parseMetrics(resp.Body, "go_goroutines", "process_resident_memory_bytes")
}

// parseMetrics reads the named unlabelled samples from Prometheus's text
// format.
func parseMetrics(r io.Reader, names ...string) (map[string]float64, error) {
	out := map[string]float64{}
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		name, value, ok := strings.Cut(scanner.Text(), " ")
		if !ok {
			continue
		}
		for _, want := range names {
			if name == want {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil {
					return nil, fmt.Errorf("metric %s: %w", name, err)
				}
				out[name] = v
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	for _, want := range names {
		if _, ok := out[want]; !ok {
			return nil, fmt.Errorf("/metrics has no %s", want)
		}
	}
	return out, nil
}

// vmRSS is a process's resident memory in bytes, from /proc/PID/status.
func vmRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS of %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}

// PeakRSS is the highest resident memory among samples, and LastRSS the
// last one read.
func PeakRSS(samples []Sample) (peak, last int64) {
	for _, s := range samples {
		if s.Err == nil {
			peak = max(peak, s.RSS)
			last = s.RSS
		}
	}
	return peak, last
}

// MB formats bytes in megabytes (10^6 bytes), the unit of the memory target.
func MB(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }
