package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// Clients are loopback addresses: Linux routes all of 127.0.0.0/8 to the
// loopback interface, so each is another client address to the server.
const (
	attacker      = "127.0.0.2"
	honest        = "127.0.0.3"
	otherAttacker = "127.0.0.4"
)

// healthWatch opens grpc.health.v1.Health/Watch without a token and
// returns the stream once the server has answered on it, or the error the
// server answered with.
func healthWatch(t *testing.T, conn *grpc.ClientConn) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

// requireTooManyStreams requires err to be the stream limit's answer.
func requireTooManyStreams(t *testing.T, err error, scope, message string) {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code(), "%v", err)
	require.Contains(t, st.Message(), message)
	require.Len(t, st.Details(), 1)
	info, ok := st.Details()[0].(*errdetails.ErrorInfo)
	require.True(t, ok, "%v", st.Details())
	require.Equal(t, "TOO_MANY_STREAMS", info.GetReason())
	require.Equal(t, scope, info.GetMetadata()["scope"])
}

func TestStreamsAreLimitedPerClientAddressAndInAllWhileOthersAreServed(t *testing.T) {
	r := runServer(t, func(cfg *Config) {
		cfg.MaxStreamsPerClient = 3
		cfg.MaxStreams = 5
	})

	// One client, over two connections, holds its three streams and no
	// more: unauthenticated health watches, then an admin's watch.
	first, second := r.dial(t, attacker), r.dial(t, attacker)
	require.NoError(t, healthWatch(t, first))
	require.NoError(t, healthWatch(t, first))
	require.NoError(t, healthWatch(t, second))
	requireTooManyStreams(t, healthWatch(t, second), "client", "this client has 3 streams open")
	requireTooManyStreams(t, healthWatch(t, r.dial(t, attacker)), "client", "this client has 3 streams open")
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+runAdminToken)
	watch, err := cairnv1.NewProvisioningServiceClient(second).WatchServiceStatus(ctx, &cairnv1.WatchServiceStatusRequest{Name: "services/orders"})
	require.NoError(t, err)
	_, err = watch.Recv()
	requireTooManyStreams(t, err, "client", "this client has 3 streams open")

	// Its REST streams count with its gRPC ones: the client is the
	// address, whichever port it calls.
	attackerHTTP := r.httpClient(t, attacker)
	req, err := http.NewRequest(http.MethodGet, "http://"+r.cfg.HTTPAddr+"/v1/services/orders/status:watch", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+runAdminToken)
	resp, err := attackerHTTP.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, string(body))
	require.Contains(t, string(body), "TOO_MANY_STREAMS")

	// Another client is served: a stream, and health checks.
	honestConn := r.dial(t, honest)
	require.NoError(t, healthWatch(t, honestConn))
	check, err := healthpb.NewHealthClient(honestConn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, check.GetStatus())

	// A second attacker fills what is left in all; then streams wait for
	// one to close, and unary health checks still answer.
	other := r.dial(t, otherAttacker)
	require.NoError(t, healthWatch(t, other))
	requireTooManyStreams(t, healthWatch(t, other), "overall", "the server has 5 streams open")
	requireTooManyStreams(t, healthWatch(t, honestConn), "overall", "the server has 5 streams open")
	check, err = healthpb.NewHealthClient(honestConn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, check.GetStatus())
	honestHTTP := r.httpClient(t, honest)
	code, _ := r.get(t, honestHTTP, "/readyz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 5.0, r.metric(t, honestHTTP, "cairn_streams_open", ""))
	require.Equal(t, 4.0, r.metric(t, honestHTTP, "cairn_streams_refused_total", `limit="client"`))
	require.Equal(t, 2.0, r.metric(t, honestHTTP, "cairn_streams_refused_total", `limit="overall"`))

	// The first attacker's streams end with its connections, and count no
	// more.
	require.NoError(t, first.Close())
	require.NoError(t, second.Close())
	require.Eventually(t, func() bool { return r.metric(t, honestHTTP, "cairn_streams_open", "") == 2 },
		30*time.Second, 20*time.Millisecond)
	require.NoError(t, healthWatch(t, other))
}

// rawConn opens a TCP connection to addr from source, which sends nothing.
func rawConn(t *testing.T, source, addr string) net.Conn {
	t.Helper()
	conn, err := dialerFrom(source).Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// requireClosedByServer requires the server to have closed conn without
// a byte, as it does a connection over the limits. The deadline only
// keeps a failing test from hanging.
func requireClosedByServer(t *testing.T, conn net.Conn) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	n, err := conn.Read(make([]byte, 1))
	require.Zero(t, n)
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("want the connection closed by the server, got %v", err)
	}
}

func TestConnectionsOverTheLimitsAreClosedAtOnceWhileOthersAreServed(t *testing.T) {
	r := runServer(t, func(cfg *Config) {
		cfg.MaxConnectionsPerClient = 3
		cfg.MaxConnections = 6
	})
	honestHTTP := r.httpClient(t, honest)
	openConnections := func(want float64) {
		t.Helper()
		require.Eventually(t, func() bool { return r.metric(t, honestHTTP, "cairn_connections_open", "") == want },
			30*time.Second, 20*time.Millisecond, "open connections")
	}
	openConnections(1) // the honest client's own

	// One client holds three connections that send nothing, on both
	// ports; a fourth to either is closed unread.
	held := []net.Conn{rawConn(t, attacker, r.cfg.GRPCAddr), rawConn(t, attacker, r.cfg.GRPCAddr)}
	openConnections(3)
	held = append(held, rawConn(t, attacker, r.cfg.HTTPAddr))
	openConnections(4)
	requireClosedByServer(t, rawConn(t, attacker, r.cfg.HTTPAddr))
	requireClosedByServer(t, rawConn(t, attacker, r.cfg.GRPCAddr))
	require.Equal(t, 2.0, r.metric(t, honestHTTP, "cairn_connections_refused_total", `limit="client"`))

	// Another client is served on both ports.
	check, err := healthpb.NewHealthClient(r.dial(t, honest)).Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, check.GetStatus())
	code, body := r.get(t, honestHTTP, "/readyz")
	require.Equal(t, http.StatusOK, code, body)
	openConnections(5)

	// A second attacker takes the last connection in all; the next is
	// closed, and the connections already open are still served.
	rawConn(t, otherAttacker, r.cfg.GRPCAddr)
	openConnections(6)
	requireClosedByServer(t, rawConn(t, otherAttacker, r.cfg.HTTPAddr))
	require.Equal(t, 1.0, r.metric(t, honestHTTP, "cairn_connections_refused_total", `limit="overall"`))
	code, _ = r.get(t, honestHTTP, "/readyz")
	require.Equal(t, http.StatusOK, code)

	// Connections count until they close, and no longer.
	for _, conn := range held {
		require.NoError(t, conn.Close())
	}
	openConnections(3)
	check, err = healthpb.NewHealthClient(r.dial(t, otherAttacker)).Check(t.Context(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, check.GetStatus())
}

func TestClientKeyIsTheIPv4AddressOrTheIPv6Slash64(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"192.0.2.7:50000", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:50000", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::1]:1", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:1", "fe80::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			addr, err := net.ResolveTCPAddr("tcp", tt.addr)
			require.NoError(t, err)
			require.Equal(t, tt.want, clientKey(addr))
		})
	}
}
