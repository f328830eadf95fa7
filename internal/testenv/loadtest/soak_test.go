package loadtest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/internal/testenv/testnet"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

var (
	soakDuration = flag.Duration("soak", 0, "run TestSoak, under load for this long (BENCHMARKS.md: 10m); 0 skips it")
	soakRate     = flag.Float64("soak.rate", 1000, "TestSoak's calls a second, half over REST and half over gRPC")
	soakServices = flag.Int("soak.services", DefaultFleet.Services, "services TestSoak seeds")
	soakReport   = flag.String("soak.report", "", "a file to write TestSoak's report to, besides the test log")
)

// soakMix is the entity-page reads, with creates and deployment reports
// for the check afterwards: 2 and 8 calls in a thousand.
var soakMix = Mix{CallCost: 330, CallStatus: 330, CallDora: 330, CallCreate: 2, CallDeploy: 8}

const (
	// soakSampleEvery is how often the soak reads Cairn's /metrics.
	soakSampleEvery = 10 * time.Second
	// Each fault lasts about this long before things start again.
	postgresDown  = 10 * time.Second
	apiServerDown = 15 * time.Second
	// convergeTimeout bounds each wait after the load: for the writes to be
	// acknowledged, then for the cluster to hold every provisioned
	// service's objects.
	convergeTimeout = 10 * time.Minute
)

// TestSoak runs Cairn (the binary, on PostgreSQL and a real API server)
// under the load for -soak, with faults injected on a schedule: PostgreSQL
// restarted, the API server stopped and started, Cairn killed with SIGKILL
// and started again, each twice. Clients resend what Cairn did not
// acknowledge once the load ends, as clients do. Then it compares what was
// sent with the store and the cluster: every created service and every
// deployment recorded once, the deployment counts Cairn derives in step
// with the deployments, and exactly the created services' objects on the
// cluster. It reports errors seen, Cairn's memory and goroutines every 10
// s, and the comparison.
//
//	go test ./internal/testenv/loadtest -run TestSoak -soak 10m -soak.report /tmp/soak.md -timeout 60m -v
//
// The claims and Applications get no status here (no Crossplane or Argo CD
// stand-in runs): status reads report them pending.
func TestSoak(t *testing.T) {
	if *soakDuration == 0 {
		t.Skip("the soak runs only when asked: -soak 10m")
	}
	fleet := DefaultFleet
	fleet.Services = *soakServices
	pg := pgtest.New(t)
	storeURL := pg.NewDatabase(t)
	env := kubetest.Start(t)
	for team := range fleet.Teams {
		env.CreateNamespace(t, TeamName(team))
	}
	cairn := newCairnProcess(t, storeURL, env.Kubeconfig(t))
	cairn.start(t)
	target := cairn.target()

	seedClient, err := target.NewClient("grpc")
	require.NoError(t, err)
	defer seedClient.Close()
	seedStart := time.Now()
	require.NoError(t, Seed(t.Context(), seedClient, fleet, 8, seedStart, testLogger(t)))
	t.Logf("seeded %d services in %s", fleet.Services, time.Since(seedStart).Round(time.Second))

	soak := &soakRun{start: time.Now(), recorder: NewRecorder(), writes: NewWriteLog()}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var load sync.WaitGroup
	for _, protocol := range []string{"rest", "grpc"} {
		client, err := target.NewClient(protocol)
		require.NoError(t, err)
		defer client.Close()
		l := &Load{
			Profile: Profile{Fleet: fleet, Mix: soakMix, Rate: *soakRate / 2, Workers: 128,
				Duration: *soakDuration, Run: "soak" + protocol[:1]},
			Client: client, Recorder: soak.recorder, Writes: soak.writes,
		}
		load.Go(func() { l.Execute(ctx) })
	}
	var sampler sync.WaitGroup
	samplerCtx, stopSampler := context.WithCancel(ctx)
	sampler.Go(func() { soak.sample(samplerCtx, cairn) })

	soak.injectFaults(t, pg, env, cairn)
	load.Wait()
	stopSampler()
	sampler.Wait()
	soak.loadEnd = time.Now()

	underLoad := soak.writes.Summary()
	soak.createsAcked, soak.deploymentsAcked = underLoad.CreatesAcked, underLoad.DeploymentsAcked
	resendCtx, stopResending := context.WithTimeout(ctx, convergeTimeout)
	defer stopResending()
	soak.resent, err = soak.writes.Resend(resendCtx, seedClient)
	require.NoError(t, err, "writes still unacknowledged after %s", convergeTimeout)
	summary := soak.writes.Summary()
	soak.checkStore(t, storeURL, summary)
	soak.checkCluster(t, env, fleet, summary)
	soak.logLines = countLogLines(t, cairn.logPath)

	report := soak.report(fleet, summary)
	t.Log("\n" + report)
	if *soakReport != "" {
		require.NoError(t, os.WriteFile(*soakReport, []byte(report), 0o644))
	}
	require.Empty(t, soak.problems, "lost or duplicated writes")
}

// soakRun is what a soak saw.
type soakRun struct {
	start, loadEnd time.Time
	recorder       *Recorder
	writes         *WriteLog

	mu       sync.Mutex
	fault    string // the fault under way, if any
	samples  []soakSample
	timeline []string

	// createsAcked and deploymentsAcked are the writes acknowledged by the
	// end of the load; resent those sent again until acknowledged after it.
	createsAcked, deploymentsAcked int
	resent                         int
	store                          []string // what the store holds, as report lines
	cluster                        []string
	problems                       []string // anything lost or duplicated
	logLines                       map[string]int
}

type soakSample struct {
	at     time.Duration // since the load started
	sample Sample
	fault  string
	// calls and failed are the calls answered and failed since the last
	// sample.
	calls, failed int
}

// sample reads Cairn's /metrics and the calls made every soakSampleEvery
// until ctx ends.
func (s *soakRun) sample(ctx context.Context, cairn *cairnProcess) {
	ticker := time.NewTicker(soakSampleEvery)
	defer ticker.Stop()
	var lastOK, lastFailed int
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		o := cairn.target().Observer()
		o.PID = int(cairn.pid.Load())
		sample := o.Sample(ctx, true)
		ok, failed := s.recorder.Counts()
		s.mu.Lock()
		s.samples = append(s.samples, soakSample{at: time.Since(s.start), sample: sample, fault: s.fault,
			calls: ok + failed - lastOK - lastFailed, failed: failed - lastFailed})
		s.mu.Unlock()
		lastOK, lastFailed = ok, failed
	}
}

// injectFaults injects each fault twice, evenly spread over the soak, and
// returns when the soak's time is up. It runs on the test's goroutine, as
// the helpers that stop and start things may end the test.
func (s *soakRun) injectFaults(t *testing.T, pg *pgtest.Server, env *kubetest.Env, cairn *cairnProcess) {
	faults := []struct {
		name   string
		inject func()
	}{
		{fmt.Sprintf("PostgreSQL stopped (fast shutdown), started %s later", postgresDown), func() {
			pg.Stop(t)
			time.Sleep(postgresDown)
			pg.Start(t)
		}},
		{fmt.Sprintf("API server stopped, started %s later", apiServerDown), func() {
			env.StopAPIServer(t)
			time.Sleep(apiServerDown)
			env.StartAPIServer(t)
		}},
		{"Cairn killed with SIGKILL, started again at once", func() {
			cairn.kill(t)
			cairn.start(t)
		}},
	}
	const rounds = 2
	n := rounds * len(faults)
	every := *soakDuration / time.Duration(n+1)
	for i := range n {
		time.Sleep(time.Until(s.start.Add(time.Duration(i+1) * every)))
		fault := faults[i%len(faults)]
		began := time.Now()
		s.setFault(fault.name)
		fault.inject()
		s.setFault("")
		s.mu.Lock()
		s.timeline = append(s.timeline, fmt.Sprintf("%s: %s; serving again after %s",
			formatElapsed(began.Sub(s.start)), fault.name, time.Since(began).Round(100*time.Millisecond)))
		s.mu.Unlock()
	}
	time.Sleep(time.Until(s.start.Add(*soakDuration)))
}

func (s *soakRun) setFault(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = name
}

// checkStore compares the creates and deployments sent with the services,
// provisionings and deployments in the store, and the per-day deployment
// counts Cairn keeps with the deployments themselves.
func (s *soakRun) checkStore(t *testing.T, storeURL string, sent WriteSummary) {
	ctx := t.Context()
	db, err := pgx.Connect(ctx, storeURL)
	require.NoError(t, err)
	defer db.Close(ctx)

	created := map[string]bool{}
	for _, name := range sent.Created {
		created[name] = true
	}
	for _, table := range []struct{ name, query string }{
		{"services", `SELECT name FROM services WHERE name LIKE '%-soak%'`},
		{"provisionings", `SELECT service FROM provisionings WHERE service LIKE '%-soak%'`},
	} {
		stored := queryStrings(t, db, table.query)
		missing, extra := compareSets(created, stored)
		s.store = append(s.store, fmt.Sprintf("%s: %d created services sent, %d in the store; missing %d, not sent %d, twice %d",
			table.name, len(created), len(stored), len(missing), len(extra), len(stored)-len(uniq(stored))))
		s.problemIf(len(missing) > 0, "%s missing from %s: %v", plural(len(missing), "service"), table.name, head(missing))
		s.problemIf(len(extra) > 0, "%s in %s never sent: %v", plural(len(extra), "service"), table.name, head(extra))
	}

	sentDeployments := map[string]bool{}
	for _, key := range sent.Deployments {
		sentDeployments[deploymentKeyString(key.Service, key.Environment, key.Revision, key.StartedAt)] = true
	}
	rows, err := db.Query(ctx, `SELECT service, environment, revision, started_at FROM deployments WHERE revision LIKE 'soak%'`)
	require.NoError(t, err)
	var stored []string
	for rows.Next() {
		var service, environment, revision string
		var startedAt time.Time
		require.NoError(t, rows.Scan(&service, &environment, &revision, &startedAt))
		stored = append(stored, deploymentKeyString(service, environment, revision, startedAt))
	}
	require.NoError(t, rows.Err())
	missing, extra := compareSets(sentDeployments, stored)
	s.store = append(s.store, fmt.Sprintf("deployments: %d sent, %d in the store; missing %d, not sent %d, twice %d; answered \"created\" twice: %d",
		len(sentDeployments), len(stored), len(missing), len(extra), len(stored)-len(uniq(stored)), len(sent.NewlyRecordedTwice)))
	s.problemIf(len(missing) > 0, "%s missing: %v", plural(len(missing), "deployment"), head(missing))
	s.problemIf(len(extra) > 0, "%s never sent: %v", plural(len(extra), "deployment"), head(extra))
	s.problemIf(len(stored) != len(uniq(stored)), "deployments stored twice")
	s.problemIf(len(sent.NewlyRecordedTwice) > 0, "deployments answered created twice: %v", sent.NewlyRecordedTwice)

	// deployment_days counts each deployment once, in its day: a counted
	// retry, or a count lost to a crash, shows as a difference.
	var mismatched, pairs int
	err = db.QueryRow(ctx, `
		WITH events AS (SELECT service, environment, count(*) AS n FROM deployments GROUP BY 1, 2),
		     days AS (SELECT service, environment, sum(succeeded + failed) AS n FROM deployment_days GROUP BY 1, 2)
		SELECT count(*) FILTER (WHERE events.n IS DISTINCT FROM days.n), count(*)
		FROM events FULL JOIN days USING (service, environment)`).Scan(&mismatched, &pairs)
	require.NoError(t, err)
	s.store = append(s.store, fmt.Sprintf("per-day deployment counts: %d of %d services and environments differ from their deployments", mismatched, pairs))
	s.problemIf(mismatched > 0, "per-day deployment counts out of step with the deployments of %d services and environments", mismatched)
}

// checkCluster waits until every provisioned service, seeded or created,
// has its two claims and two Applications, or convergeTimeout passes, then
// requires exactly those of Cairn's objects on the cluster.
func (s *soakRun) checkCluster(t *testing.T, env *kubetest.Env, fleet Fleet, sent WriteSummary) {
	want := map[string]bool{}
	for k := range fleet.ProvisionedCount() {
		want[fleet.Name(fleet.ProvisionedIndex(k))] = true
	}
	for _, name := range sent.Created {
		want[name] = true
	}
	began := time.Now()
	var objects map[string][]string
	for {
		objects = cairnObjects(t, env)
		complete := 0
		for name := range want {
			if len(objects[name]) == 4 {
				complete++
			}
		}
		if complete == len(want) {
			s.cluster = append(s.cluster, fmt.Sprintf("every provisioned service had its objects on the cluster %s after the last write was acknowledged",
				time.Since(began).Round(time.Second)))
			break
		}
		if time.Since(began) > convergeTimeout {
			break // incomplete, reported below
		}
		time.Sleep(5 * time.Second)
	}
	var incomplete, extra, duplicated []string
	total := 0
	for name, objs := range objects {
		total += len(objs)
		switch {
		case !want[name]:
			extra = append(extra, name)
		case len(uniq(objs)) != len(objs):
			duplicated = append(duplicated, name)
		}
	}
	for name := range want {
		if got := uniq(objects[name]); !slices.Equal(got, []string{"Application/production", "Application/staging", "BucketClaim", "DatabaseClaim"}) {
			incomplete = append(incomplete, fmt.Sprintf("%s: %v", name, got))
		}
	}
	s.cluster = append(s.cluster, fmt.Sprintf("%d provisioned services (%d seeded, %d created under load): %d objects of Cairn's on the cluster; incomplete %d, not sent %d, twice %d",
		len(want), fleet.ProvisionedCount(), len(sent.Created), total, len(incomplete), len(extra), len(duplicated)))
	s.problemIf(len(incomplete) > 0, "services without all their objects after %s: %v", convergeTimeout, head(incomplete))
	s.problemIf(len(extra) > 0, "objects of services never sent: %v", head(extra))
	s.problemIf(len(duplicated) > 0, "services with an object twice: %v", head(duplicated))
}

// cairnObjects lists Cairn's claims and Applications on the cluster, by
// service, as "Kind" or "Application/environment".
func cairnObjects(t *testing.T, env *kubetest.Env) map[string][]string {
	out := map[string][]string{}
	for _, kind := range manifest.Kinds(manifest.DefaultSettings()) {
		list, err := env.Dynamic().Resource(kind.GroupVersionResource()).List(t.Context(),
			metav1.ListOptions{LabelSelector: manifest.LabelManagedBy + "=" + manifest.ManagedBy})
		require.NoError(t, err)
		for _, obj := range list.Items {
			labels := obj.GetLabels()
			what := obj.GetKind()
			if !kind.Claim {
				what += "/" + labels[manifest.LabelEnvironment]
			}
			out[labels[manifest.LabelName]] = append(out[labels[manifest.LabelName]], what)
		}
	}
	for name := range out {
		slices.Sort(out[name])
	}
	return out
}

func (s *soakRun) problemIf(cond bool, format string, args ...any) {
	if cond {
		s.problems = append(s.problems, fmt.Sprintf(format, args...))
	}
}

// report is the soak's figures in Markdown.
func (s *soakRun) report(fleet Fleet, sent WriteSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d services seeded; %s at %.0f calls/s (half REST, half gRPC), mix %s\n\n",
		fleet.Services, *soakDuration, *soakRate, soakMix)
	b.WriteString("Faults:\n\n")
	for _, line := range s.timeline {
		fmt.Fprintf(&b, "- %s\n", line)
	}
	b.WriteString("\nCalls over the whole soak (latencies of the calls that succeeded):\n\n")
	WriteTable(&b, s.recorder.Results(s.loadEnd.Sub(s.start)))
	fmt.Fprintf(&b, "\nWrites: %d creates sent, %d acknowledged under load; %d deployments sent, %d acknowledged under load; the other %d resent after the load until acknowledged.\n\n",
		len(sent.Created), s.createsAcked, len(sent.Deployments), s.deploymentsAcked, s.resent)
	for _, line := range append(s.store, s.cluster...) {
		fmt.Fprintf(&b, "- %s\n", line)
	}
	if len(s.problems) == 0 {
		b.WriteString("\nNothing lost, nothing duplicated.\n")
	} else {
		b.WriteString("\nProblems:\n\n")
		for _, p := range s.problems {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	b.WriteString("\nCairn's warnings and errors in its log, by message:\n\n")
	for _, line := range slices.Sorted(maps.Keys(s.logLines)) {
		fmt.Fprintf(&b, "- %d x %s\n", s.logLines[line], line)
	}
	b.WriteString("\nEvery 10 s: Cairn's resident memory (VmRSS; anonymous part), goroutines, and the calls answered and failed in the 10 s before:\n\n")
	b.WriteString("| time | RSS | anonymous | goroutines | calls | failed | fault under way |\n|---:|---:|---:|---:|---:|---:|---|\n")
	for _, smp := range s.samples {
		if smp.sample.Err != nil {
			fmt.Fprintf(&b, "| %s | | | | %d | %d | %s (Cairn not answering: %s) |\n", formatElapsed(smp.at), smp.calls, smp.failed,
				smp.fault, firstLine(smp.sample.Err.Error()))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %s |\n", formatElapsed(smp.at), MB(smp.sample.RSS), MB(smp.sample.AnonRSS),
			smp.sample.Goroutines, smp.calls, smp.failed, smp.fault)
	}
	return b.String()
}

// countLogLines counts Cairn's WARN and ERROR log lines by level and
// message, and by outcome for the audit events it failed to write.
func countLogLines(t *testing.T, path string) map[string]int {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	counts := map[string]int{}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var line struct {
			Level, Msg, Outcome string
		}
		if json.Unmarshal(scanner.Bytes(), &line) != nil || line.Level == "INFO" || line.Level == "DEBUG" {
			continue
		}
		key := line.Level + " " + line.Msg
		if line.Outcome != "" { // an audit event's: of a call that succeeded, or not
			key += " (outcome " + line.Outcome + ")"
		}
		counts[key]++
	}
	require.NoError(t, scanner.Err())
	return counts
}

// cairnProcess is the cairn binary, run on fixed ports so that clients
// reach it again after a restart.
type cairnProcess struct {
	bin     string
	args    []string
	logPath string
	http    string
	grpc    string
	pid     atomic.Int64
	cmd     *exec.Cmd
	exited  chan struct{}
}

// newCairnProcess builds the cairn binary and prepares its arguments: the
// store, the cluster, authentication on with one admin token, rate
// limiting off, JSON logs appended to one file across restarts.
func newCairnProcess(t *testing.T, storeURL, kubeconfig string) *cairnProcess {
	dir := t.TempDir()
	bin := filepath.Join(dir, "cairn")
	build := exec.Command("go", "build", "-o", bin, "github.com/cairn-dev/cairn/cmd/cairn")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	sum := sha256.Sum256([]byte(adminToken))
	config := filepath.Join(dir, "cairn.yaml")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil,
		"auth:\n  mode: required\n  tokens:\n    - name: load\n      sha256: %s\n      roles: [admin]\n",
		hex.EncodeToString(sum[:])), 0o600))
	p := &cairnProcess{bin: bin, logPath: filepath.Join(dir, "cairn.log"), http: testnet.FreeAddr(t), grpc: testnet.FreeAddr(t)}
	p.args = []string{"serve", "--config", config, "--store", storeURL, "--kubeconfig", kubeconfig,
		"--http-addr", p.http, "--grpc-addr", p.grpc, "--rate-limit", "0", "--log-format", "json"}
	t.Cleanup(func() {
		if p.cmd == nil {
			return
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			p.kill(t)
		}
	})
	return p
}

func (p *cairnProcess) target() Target {
	return Target{RESTURL: "http://" + p.http, GRPCAddr: p.grpc, Token: adminToken, RESTConns: 128, GRPCConns: 2}
}

// start starts the binary and waits until it is ready.
func (p *cairnProcess) start(t *testing.T) {
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	defer log.Close() // the process has its own copy
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	p.pid.Store(int64(cmd.Process.Pid))
	target := p.target()
	require.Eventually(t, func() bool { return target.Ready(t.Context()) }, 2*time.Minute, 100*time.Millisecond,
		"Cairn did not become ready")
}

// kill kills the process with SIGKILL and waits until it is gone.
func (p *cairnProcess) kill(t *testing.T) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.exited
	p.cmd = nil
}

func queryStrings(t *testing.T, db *pgx.Conn, query string) []string {
	rows, err := db.Query(t.Context(), query)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

func deploymentKeyString(service, environment, revision string, startedAt time.Time) string {
	return fmt.Sprintf("%s/%s/%s@%s", service, environment, revision, startedAt.UTC().Format(time.RFC3339Nano))
}

// compareSets returns what want has and got has not, and the reverse.
func compareSets(want map[string]bool, got []string) (missing, extra []string) {
	have := map[string]bool{}
	for _, g := range got {
		have[g] = true
		if !want[g] {
			extra = append(extra, g)
		}
	}
	for w := range want {
		if !have[w] {
			missing = append(missing, w)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return missing, extra
}

func uniq(s []string) []string { return slices.Compact(slices.Sorted(slices.Values(s))) }

// head is the first few of a list, for a message.
func head(s []string) []string { return s[:min(len(s), 5)] }

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func formatElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// testLogger logs to t.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
