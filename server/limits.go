package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/fullstorydev/grpchan/inprocgrpc"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/cairn-dev/cairn/server/apierr"
)

// Connections and streams are what a caller can hold open without a token
// (health's Watch is public) and without calling again (a rate limit
// counts calls, not how long they last). Each costs a goroutine and
// buffers, so both are bounded per client address and in all. Unary calls
// are not: they end by themselves, within --call-timeout.

// maxCallsPerConnection bounds the calls one gRPC connection runs at once;
// a client's further calls wait for one to end.
const maxCallsPerConnection = 1000

// clientKey is the client a connection comes from: its IPv4 address, or
// the /64 of its IPv6 address, as one host is given a whole /64.
func clientKey(addr net.Addr) string {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return addr.String()
	}
	ip := ap.Addr().Unmap().WithZone("")
	if ip.Is6() {
		prefix, _ := ip.Prefix(64)
		return prefix.String()
	}
	return ip.String()
}

type clientContextKey struct{}

// withClient notes the client of an HTTP connection in its requests'
// contexts, for the stream limit of REST streams, which reach the API over
// the in-process channel.
func withClient(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, clientContextKey{}, clientKey(c.RemoteAddr()))
}

// clientOf is the client of a call: the HTTP caller of a REST call, else
// the gRPC peer.
func clientOf(ctx context.Context) string {
	if rest := inprocgrpc.ClientContext(ctx); rest != nil {
		ctx = rest
	}
	if client, ok := ctx.Value(clientContextKey{}).(string); ok {
		return client
	}
	if p, ok := peer.FromContext(ctx); ok {
		return clientKey(p.Addr)
	}
	return "unknown"
}

// Which limit refused a connection or stream (the refused metrics' label).
const (
	perClientLimit = "client"
	overallLimit   = "overall"
)

// openLimit counts what is open, per client and in all, and refuses more
// than either limit allows.
type openLimit struct {
	perClient, overall int
	refused            *prometheus.CounterVec

	mu    sync.Mutex
	open  map[string]int
	total int
}

func newOpenLimit(perClient, overall int, registry prometheus.Registerer, what string) *openLimit {
	l := &openLimit{
		perClient: perClient, overall: overall, open: map[string]int{},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_" + what + "_refused_total",
			Help: "Number of " + what + " refused for being over the per-client or the overall limit.",
		}, []string{"limit"}),
	}
	registry.MustRegister(l.refused, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cairn_" + what + "_open",
		Help: "Number of " + what + " open now.",
	}, func() float64 {
		l.mu.Lock()
		defer l.mu.Unlock()
		return float64(l.total)
	}))
	return l
}

// acquire counts one more for client, or says which limit refuses it.
func (l *openLimit) acquire(client string) (refusedBy string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open[client] >= l.perClient:
		refusedBy = perClientLimit
	case l.total >= l.overall:
		refusedBy = overallLimit
	default:
		l.open[client]++
		l.total++
		return ""
	}
	l.refused.WithLabelValues(refusedBy).Inc()
	return refusedBy
}

func (l *openLimit) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.open[client]--; l.open[client] == 0 {
		delete(l.open, client)
	}
}

// limitListener closes, at once and unread, each connection over the
// limit, and counts the others until they close.
func limitListener(inner net.Listener, limit *openLimit) net.Listener {
	return &limitedListener{Listener: inner, limit: limit}
}

type limitedListener struct {
	net.Listener
	limit *openLimit
}

func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientKey(conn.RemoteAddr())
		if l.limit.acquire(client) != "" {
			conn.Close()
			continue
		}
		return &limitedConn{Conn: conn, release: sync.OnceFunc(func() { l.limit.release(client) })}, nil
	}
}

type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// CloseWrite half-closes the connection as the TCP connection it wraps
// would: http.Server does so before closing a connection whose request
// body it left unread (an upload refused midway), so that the client
// reads the answer rather than a reset.
func (c *limitedConn) CloseWrite() error {
	if half, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return half.CloseWrite()
	}
	return nil
}

// errStopping ends the streams still open when the server stops.
var errStopping = errors.New("the server is shutting down")

// streamGate bounds the streams open per client and in all, on both ports,
// and ends those that would otherwise hold the shutdown: every stream
// the server sends on (watches, reflection) is ended when it stops; an
// upload is left to finish within the drain.
type streamGate struct {
	limit *openLimit

	mu       sync.Mutex
	stopping bool
	ending   map[*context.CancelCauseFunc]struct{}
}

func newStreamGate(perClient, overall int, registry prometheus.Registerer) *streamGate {
	return &streamGate{
		limit:  newOpenLimit(perClient, overall, registry, "streams"),
		ending: map[*context.CancelCauseFunc]struct{}{},
	}
}

func (g *streamGate) interceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		client := clientOf(ss.Context())
		if refusedBy := g.limit.acquire(client); refusedBy != "" {
			return g.tooMany(refusedBy)
		}
		defer g.limit.release(client)
		if !info.IsServerStream {
			return handler(srv, ss)
		}
		ctx, cancel := context.WithCancelCause(ss.Context())
		defer cancel(nil)
		if !g.add(&cancel) {
			return status.Error(codes.Unavailable, errStopping.Error())
		}
		defer g.remove(&cancel)
		err := handler(srv, &streamWithContext{ServerStream: ss, ctx: ctx})
		if errors.Is(context.Cause(ctx), errStopping) {
			// The client should open it again, on another replica.
			return status.Error(codes.Unavailable, errStopping.Error())
		}
		return err
	}
}

func (g *streamGate) tooMany(refusedBy string) error {
	message := fmt.Sprintf("this client has %d streams open, the most one client may: close one first", g.limit.perClient)
	limit := g.limit.perClient
	if refusedBy == overallLimit {
		message = fmt.Sprintf("the server has %d streams open, the most it serves: retry later", g.limit.overall)
		limit = g.limit.overall
	}
	st, _ := status.New(codes.ResourceExhausted, message).WithDetails(&errdetails.ErrorInfo{
		Reason:   "TOO_MANY_STREAMS",
		Domain:   apierr.Domain,
		Metadata: map[string]string{"limit": strconv.Itoa(limit), "scope": refusedBy},
	})
	return st.Err()
}

// add registers a stream to end at stop, unless the server is stopping.
func (g *streamGate) add(cancel *context.CancelCauseFunc) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopping {
		return false
	}
	g.ending[cancel] = struct{}{}
	return true
}

func (g *streamGate) remove(cancel *context.CancelCauseFunc) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.ending, cancel)
}

// stop ends the streams the server sends on, and refuses new ones.
func (g *streamGate) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopping = true
	for cancel := range g.ending {
		(*cancel)(errStopping)
	}
}
