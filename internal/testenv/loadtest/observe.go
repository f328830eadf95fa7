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
	"syscall"
	"time"
)

// Sample is what the server reported of itself at one time.
type Sample struct {
	Time time.Time
	// RSS is the resident memory in bytes: the process's VmRSS when the
	// observer knows its pid, else its process_resident_memory_bytes.
	RSS int64
	// AnonRSS is the part of RSS that is the process's own memory (heap,
	// stacks, SQLite's caches), known only with a PID; the rest is mostly
	// the binary's code and data, mapped from its file.
	AnonRSS    int64
	Goroutines int
	// CPU is the CPU time, user and system, the process has used since it
	// started; known only with a PID.
	CPU time.Duration
	// Err is why the server could not be read, such as while it restarts.
	Err error
}

// Observer reads a Cairn server's goroutine count and resident memory
// from its /metrics (go_goroutines, process_resident_memory_bytes), and the
// resident memory from /proc/PID/status instead when PID is set, as the
// kernel counts it. With thousands of services /metrics is large
// (platform_lead_time_seconds has a histogram per service), and reading it
// costs the server CPU: Watch reads /proc often and /metrics seldom.
type Observer struct {
	// MetricsURL is the server's /metrics, such as http://localhost:8080/metrics.
	MetricsURL string
	// PID is the server's process, when on this machine; 0 if not.
	PID    int
	client http.Client
}

// Sample reads the server once: /proc/PID/status when PID is set, and
// /metrics when scrape is set or PID is not.
func (o *Observer) Sample(ctx context.Context, scrape bool) Sample {
	s := Sample{Time: time.Now()}
	if scrape || o.PID == 0 {
		metrics, err := o.scrape(ctx)
		if err != nil {
			s.Err = err
			return s
		}
		s.Goroutines = int(metrics["go_goroutines"])
		s.RSS = int64(metrics["process_resident_memory_bytes"])
	}
	if o.PID != 0 {
		rss, anon, err := vmRSS(o.PID)
		if err != nil {
			s.Err = err
			return s
		}
		s.RSS, s.AnonRSS = rss, anon
		if s.CPU, err = cpuTime(o.PID); err != nil {
			s.Err = err
		}
	}
	return s
}

// Watch samples the server every interval, and /metrics every scrapeEvery
// (0: only first), until ctx ends, then once more with /metrics, and
// returns what it saw.
func (o *Observer) Watch(ctx context.Context, interval, scrapeEvery time.Duration) []Sample {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var samples []Sample
	var lastScrape time.Time
	for {
		scrape := lastScrape.IsZero() || scrapeEvery > 0 && time.Since(lastScrape) >= scrapeEvery
		if scrape {
			lastScrape = time.Now()
		}
		samples = append(samples, o.Sample(ctx, scrape))
		select {
		case <-ctx.Done():
			// The last look, after the run: ctx is over, the server is not.
			return append(samples, o.Sample(context.WithoutCancel(ctx), true))
		case <-ticker.C:
		}
	}
}

// WatchInBackground is Watch on its own goroutine: stop ends it and
// returns the samples.
func (o *Observer) WatchInBackground(ctx context.Context, interval, scrapeEvery time.Duration) (stop func() []Sample) {
	ctx, cancel := context.WithCancel(ctx)
	var samples []Sample
	var wg sync.WaitGroup
	wg.Go(func() { samples = o.Watch(ctx, interval, scrapeEvery) })
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
	// Asked for plainly: compressing a large /metrics would cost the
	// server more than sending it over loopback.
	req.Header.Set("Accept-Encoding", "identity")
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

// vmRSS is a process's resident memory, and the anonymous part of it, in
// bytes, from /proc/PID/status.
func vmRSS(pid int) (rss, anon int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	fields := map[string]*int64{"VmRSS:": &rss, "RssAnon:": &anon}
	found := 0
	for line := range strings.Lines(string(data)) {
		name, value, _ := strings.Cut(line, "\t")
		dst, ok := fields[name]
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s %w", pid, name, err)
		}
		*dst = kb << 10
		found++
	}
	if found < len(fields) {
		return 0, 0, fmt.Errorf("/proc/%d/status has no VmRSS or RssAnon", pid)
	}
	return rss, anon, nil
}

// userHZ is the unit of the CPU times in /proc: USER_HZ, 100 on the
// architectures Go runs Linux on.
const userHZ = 100

// cpuTime is the CPU time, user and system, a process has used, from
// /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command, in parentheses, may hold spaces: fields count from after
	// it, where fields[0] is field 3 (the state), and utime and stime are
	// fields 14 and 15.
	text := string(data)
	fields := strings.Fields(text[strings.LastIndex(text, ")")+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// Peak is the sample with the highest resident memory, and Last the last
// one read; zero Samples when none was read.
func Peak(samples []Sample) (peak, last Sample) {
	for _, s := range samples {
		if s.Err == nil {
			if s.RSS > peak.RSS {
				peak = s
			}
			last = s
		}
	}
	return peak, last
}

// MB formats bytes in megabytes (10^6 bytes), the unit of the memory target.
func MB(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }

// ownCPU is the CPU time, user and system, this process has used.
func ownCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
