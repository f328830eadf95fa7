package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cairn-dev/cairn/internal/testenv/testnet"
	"github.com/cairn-dev/cairn/server/auth"
)

// The token of the admin of servers started by runServer.
const runAdminToken = "run-admin-token-5f0c2e8a"

// running is Cairn started with Run, in process, on loopback ports.
type running struct {
	cfg    Config
	logs   *logBuffer
	stop   context.CancelFunc
	done   chan error
	exited bool
}

// runServer starts Run with an admin token and a temporary SQLite store,
// changed by configure, and waits until gRPC health says SERVING. The
// test's end stops it and requires that Run returned no error.
func runServer(t *testing.T, configure func(*Config)) *running {
	t.Helper()
	cfg := DefaultConfig()
	cfg.GRPCAddr, cfg.HTTPAddr = testnet.FreeAddr(t), testnet.FreeAddr(t)
	cfg.Store = "sqlite:" + filepath.Join(t.TempDir(), "cairn.db")
	sum := sha256.Sum256([]byte(runAdminToken))
	cfg.Auth = auth.Config{Mode: auth.ModeRequired, Tokens: []auth.TokenConfig{
		{Name: "run-admin", SHA256: hex.EncodeToString(sum[:]), Roles: []auth.Role{auth.RoleAdmin}},
	}}
	if configure != nil {
		configure(&cfg)
	}
	require.NoError(t, cfg.validate())

	r := &running{cfg: cfg, logs: &logBuffer{}, done: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- Run(ctx, cfg, logger) }()
	t.Cleanup(func() {
		if !r.exited {
			require.NoError(t, r.shutDown(t))
		}
		if t.Failed() {
			t.Logf("cairn log:\n%s", r.logs.String())
		}
	})

	conn := r.dial(t, "127.0.0.1")
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	}, 60*time.Second, 50*time.Millisecond, "cairn did not become ready")
	require.NoError(t, conn.Close())
	return r
}

// shutDown cancels Run's context and returns what Run returns.
func (r *running) shutDown(t *testing.T) error {
	t.Helper()
	r.stop()
	r.exited = true
	select {
	case err := <-r.done:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatal("Run did not return within 2 minutes of its context's end")
		return nil
	}
}

// dialerFrom dials from source, a loopback address other than 127.0.0.1
// standing for another client.
func dialerFrom(source string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
}

// dial is a gRPC connection to the server from source.
func (r *running) dial(t *testing.T, source string) *grpc.ClientConn {
	t.Helper()
	dialer := dialerFrom(source)
	conn, err := grpc.NewClient("passthrough:///"+r.cfg.GRPCAddr,
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, "tcp", addr)
		}),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// httpClient is an HTTP client of the server from source, keeping its
// connection between calls.
func (r *running) httpClient(t *testing.T, source string) *http.Client {
	t.Helper()
	transport := &http.Transport{DialContext: dialerFrom(source).DialContext, MaxConnsPerHost: 1}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}

// get is a GET of path on the HTTP port, without a token.
func (r *running) get(t *testing.T, client *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := client.Get("http://" + r.cfg.HTTPAddr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// metric is the value of a metric without labels, or with the labels
// given as they are written (`limit="client"`), from /metrics.
func (r *running) metric(t *testing.T, client *http.Client, name, labels string) float64 {
	t.Helper()
	code, body := r.get(t, client, "/metrics")
	require.Equal(t, http.StatusOK, code)
	series := regexp.QuoteMeta(name)
	if labels != "" {
		series += `\{` + regexp.QuoteMeta(labels) + `\}`
	}
	m := regexp.MustCompile(`(?m)^` + series + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0 // a counter of a label not yet seen
	}
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
