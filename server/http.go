package server

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fullstorydev/grpchan/inprocgrpc"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/chatops"
	"github.com/cairn-dev/cairn/server/restjson"
	"github.com/cairn-dev/cairn/store"
)

// newGateway returns the REST facade: grpc-gateway handlers for every
// service, calling the API over conn.
func newGateway(ctx context.Context, conn grpc.ClientConnInterface) (http.Handler, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, restjson.Marshaler),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithErrorHandler(errorWithRetryAfter),
	)
	for _, err := range []error{
		cairnv1.RegisterCatalogServiceHandlerClient(ctx, mux, cairnv1.NewCatalogServiceClient(conn)),
		cairnv1.RegisterProvisioningServiceHandlerClient(ctx, mux, cairnv1.NewProvisioningServiceClient(conn)),
		cairnv1.RegisterCostServiceHandlerClient(ctx, mux, cairnv1.NewCostServiceClient(conn)),
		cairnv1.RegisterMetricsServiceHandlerClient(ctx, mux, cairnv1.NewMetricsServiceClient(conn)),
		cairnv1.RegisterAuditServiceHandlerClient(ctx, mux, cairnv1.NewAuditServiceClient(conn)),
	} {
		if err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
	}
	return mux, nil
}

// incomingHeader passes the caller's request id to gRPC besides what the
// gateway passes by default (Authorization among them).
func incomingHeader(key string) (string, bool) {
	if strings.EqualFold(key, RequestIDHeader) {
		return RequestIDHeader, true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// outgoingHeader returns the request id as X-Request-Id.
func outgoingHeader(key string) (string, bool) {
	if key == RequestIDHeader {
		return "X-Request-Id", true
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// errorWithRetryAfter is the gateway's error handler plus a Retry-After
// header on 429s, from the status's RetryInfo.
func errorWithRetryAfter(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.RetryInfo); ok {
			seconds := math.Ceil(info.GetRetryDelay().AsDuration().Seconds())
			w.Header().Set("Retry-After", strconv.Itoa(max(int(seconds), 1)))
		}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// maxHeaderBytes bounds the headers of a REST request and the metadata of
// a gRPC call: twice the longest token Cairn accepts.
const maxHeaderBytes = 2 * auth.MaxTokenLength

// newHTTPHandler routes the HTTP port; slack is nil when Slack is off.
func newHTTPHandler(cfg Config, g *guard, gateway, focusImport http.Handler, slack http.Handler, registry *prometheus.Registry, ready *readiness) http.Handler {
	mux := http.NewServeMux()
	if slack != nil {
		// Slack signs its requests: they carry no bearer token.
		mux.Handle("/slack/", limitBody(chatops.MaxBodyBytes, cfg.BodyTimeout, slack))
	}
	// Billing files are larger than any other body: the import streams them
	// and bounds them itself, at a minimum rate.
	mux.Handle("POST /v1/costs:importFocus", authenticateFirst(g.authenticator, atMinimumRate(cfg.BodyTimeout, cfg.UploadMinRate, focusImport)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", ready.serveHTTP)
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	mux.Handle("/", authenticateFirst(g.authenticator, limitBody(int64(cfg.MaxRequestBytes), cfg.BodyTimeout, gateway)))
	return mux
}

// restCall is what the HTTP server knows of a REST call, for the gRPC
// interceptors it reaches over the in-process channel: the client's
// address and who the caller is.
type restCall struct {
	remoteAddr string
	principal  *auth.Principal
	authErr    error
	// transport names where the call came from when not the REST facade:
	// transportSlack.
	transport string
}

// asPrincipal is a context whose calls over the in-process channel are
// made as p, from transport: for callers Cairn authenticated itself, such
// as Slack's signed requests.
func asPrincipal(ctx context.Context, p *auth.Principal, transport string) context.Context {
	return context.WithValue(ctx, restCallKey{}, &restCall{remoteAddr: transport, principal: p, transport: transport})
}

type restCallKey struct{}

// restCallOf returns the REST call that ctx, a context of the in-process
// channel's server side, serves; nil for a call over the gRPC port, whose
// contexts never hold one.
func restCallOf(ctx context.Context) *restCall {
	client := inprocgrpc.ClientContext(ctx)
	if client == nil {
		return nil
	}
	rc, _ := client.Value(restCallKey{}).(*restCall)
	return rc
}

func transportOf(ctx context.Context) string {
	if rc := restCallOf(ctx); rc != nil {
		return cmp.Or(rc.transport, transportREST)
	}
	return transportGRPC
}

// authenticateFirst authenticates a REST call from its Authorization
// header before anything reads its body. A caller it refuses never has its
// body read: the call goes on with an empty body, for the guard to answer
// (401 in the gateway's error shape, or 503 when tokens cannot be checked
// now) and audit, and the connection closes after the answer rather than
// wait for the rest of the body. The guard takes the result from the
// call's context and does not authenticate again.
func authenticateFirst(a *auth.Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		principal, err := a.Authenticate(r.Context(), r.Header.Get("Authorization"))
		rc := &restCall{remoteAddr: r.RemoteAddr, principal: principal, authErr: err}
		call := r.WithContext(context.WithValue(r.Context(), restCallKey{}, rc))
		if err == nil {
			next.ServeHTTP(w, call)
			return
		}
		call.Body, call.ContentLength = http.NoBody, 0
		call.Header = call.Header.Clone()
		call.Header.Del("Content-Length")
		w.Header().Set("Connection", "close")
		next.ServeHTTP(w, call)
		refuseRestOfBody(w)
	})
}

// refuseRestOfBody has the server stop reading a request's body soon:
// once a handler returns, the server reads what is left of a small body
// before it closes the connection, and would wait on a withheld one
// forever. The grace lets a client still sending read the answer before
// the connection ends; at once, it would often see a reset instead.
func refuseRestOfBody(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(refusedBodyGrace))
}

// refusedBodyGrace is how long a refused body may still be read.
const refusedBodyGrace = time.Second

// limitBody answers 413 for bodies over max bytes, and 408 for bodies that
// take longer than timeout to arrive, in the gateway's error shape, before
// the gateway sees them. The body is read here so that a chunked upload
// without Content-Length is bounded too.
func limitBody(max int64, timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > max {
			restjson.WriteTooLarge(w, max)
			return
		}
		rc := http.NewResponseController(w)
		// ErrNotSupported only where no connection is read (tests'
		// recorders): nothing to bound there.
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			defer refuseRestOfBody(w)
		}
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			restjson.WriteTooLarge(w, max)
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			restjson.WriteBodyTimeout(w, fmt.Sprintf("the request body did not arrive within %s", timeout))
			return
		case err != nil:
			http.Error(w, "reading the request body failed", http.StatusBadRequest)
			return
		}
		// Lifted before the call runs: the server reads the connection in
		// the background, and a deadline passing there would cancel it.
		_ = rc.SetReadDeadline(time.Time{})
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// atMinimumRate bounds the time a streamed body takes without bounding
// its size: while the handler waits for it, the body must average
// bytesPerSecond, and may pause at most maxPause. Time the handler spends
// on what it read does not count, so a slow store does not cut a fast
// upload.
func atMinimumRate(maxPause time.Duration, bytesPerSecond int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		body := &minRateBody{
			ReadCloser: r.Body, setDeadline: rc.SetReadDeadline, now: time.Now,
			maxPause: maxPause, perByte: max(time.Second/time.Duration(bytesPerSecond), 1), credit: maxPause,
		}
		r.Body = body
		next.ServeHTTP(w, r)
		if !body.done {
			refuseRestOfBody(w)
		}
	})
}

// minRateBody holds a time credit: each read may wait for the client as
// long as the credit lasts, the time it waits is taken from it, and each
// byte that arrives adds perByte, up to maxPause.
type minRateBody struct {
	io.ReadCloser
	setDeadline func(time.Time) error
	now         func() time.Time
	maxPause    time.Duration
	perByte     time.Duration
	credit      time.Duration
	done        bool // read to its end
}

func (b *minRateBody) Read(p []byte) (int, error) {
	if b.credit <= 0 {
		return 0, fmt.Errorf("upload slower than the minimum rate: %w", os.ErrDeadlineExceeded)
	}
	start := b.now()
	_ = b.setDeadline(start.Add(b.credit))
	n, err := b.ReadCloser.Read(p)
	earned := time.Duration(min(int64(n), int64(b.maxPause/b.perByte)+1)) * b.perByte
	b.credit = min(b.maxPause, b.credit-b.now().Sub(start)+earned)
	if errors.Is(err, io.EOF) {
		// Lifted before the handler goes on: the server reads the
		// connection in the background, and a deadline passing there would
		// cancel the call.
		_ = b.setDeadline(time.Time{})
		b.done = true
	}
	return n, err
}

// readiness keeps gRPC health and /readyz in step with the store: serving
// while the store answers, not serving while it does not or once shutting
// down.
type readiness struct {
	store    store.Store
	health   *health.Server
	logger   *slog.Logger
	stopping atomic.Bool
	serving  atomic.Bool
}

const pingTimeout = 2 * time.Second

func (r *readiness) check(ctx context.Context) error {
	if r.stopping.Load() {
		return errors.New("shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := r.store.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// watch checks the store now and every interval until ctx is done.
func (r *readiness) watch(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		r.update(r.check(ctx))
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (r *readiness) update(err error) {
	serving := err == nil
	if r.serving.Swap(serving) == serving {
		return
	}
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
		r.logger.Info("ready")
	} else {
		r.logger.Warn("not ready", "reason", err)
	}
	r.health.SetServingStatus("", st)
	for _, name := range serviceNames {
		r.health.SetServingStatus(name, st)
	}
}

// serviceNames are the gRPC services whose health is reported one by one.
var serviceNames = []string{
	cairnv1.AuditService_ServiceDesc.ServiceName,
	cairnv1.CatalogService_ServiceDesc.ServiceName,
	cairnv1.ProvisioningService_ServiceDesc.ServiceName,
	cairnv1.CostService_ServiceDesc.ServiceName,
	cairnv1.MetricsService_ServiceDesc.ServiceName,
}

func (r *readiness) shutDown() {
	r.stopping.Store(true)
	r.health.Shutdown() // every service NOT_SERVING, and stays so
}

// serveHTTP answers /readyz, to anyone: ready or not ready, and nothing
// else. Why not goes to the log, as a store's error names its host and
// user.
func (r *readiness) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if err := r.check(req.Context()); err != nil {
		if req.Context().Err() == nil { // not the caller hanging up
			r.logger.Warn("readiness check failed", "error", err)
		}
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}
