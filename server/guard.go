package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/audit"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/store"
)

// RequestIDHeader carries a caller's request identifier; Cairn sends it
// back, making one when the caller did not.
const RequestIDHeader = "x-request-id"

// forwardedToFocusImport are the HTTP headers the FOCUS upload handler
// relays to ImportFocusCsv, with the metadata key of each: who calls, and
// the request id the audit log and logs name.
var forwardedToFocusImport = map[string]string{"Authorization": "authorization", "X-Request-Id": RequestIDHeader}

// guard is the one interceptor pair every call passes: it authenticates the
// caller, checks the rule table, applies the caller's rate limit and the
// call deadline, and writes the audit event of every mutating call, allowed
// or denied.
type guard struct {
	authenticator *auth.Authenticator
	audit         store.AuditStore
	limiter       *principalLimiter
	callTimeout   time.Duration
	logger        *slog.Logger

	// unauthenticatedAudit bounds the audit events of calls without valid
	// credentials, all principals together: anyone can make those.
	unauthenticatedAudit *rate.Limiter
	// suppressedLog says, at most once a minute, that events were
	// suppressed; the metric counts every one.
	suppressedLog rate.Sometimes
	now           func() time.Time

	unauthenticatedCalls *prometheus.CounterVec
	auditSuppressed      prometheus.Counter
	auditWriteFailures   prometheus.Counter
}

func newGuard(authenticator *auth.Authenticator, audit store.AuditStore, cfg Config, logger *slog.Logger, registry prometheus.Registerer) *guard {
	auditRate := rate.Limit(cfg.UnauthenticatedAuditRate)
	if auditRate == 0 {
		auditRate = rate.Inf
	}
	g := &guard{
		authenticator:        authenticator,
		audit:                audit,
		limiter:              newPrincipalLimiter(cfg.RateLimit, cfg.RateBurst, time.Now),
		callTimeout:          cfg.CallTimeout,
		logger:               logger,
		unauthenticatedAudit: rate.NewLimiter(auditRate, cfg.UnauthenticatedAuditBurst),
		suppressedLog:        rate.Sometimes{Interval: time.Minute},
		now:                  time.Now,
		unauthenticatedCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_unauthenticated_calls_total",
			Help: "Calls refused for missing or invalid credentials, by transport (grpc or rest).",
		}, []string{"transport"}),
		auditSuppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_audit_events_suppressed_total",
			Help: "Audit events of unauthenticated calls not written because they came faster than the unauthenticated audit rate.",
		}),
		auditWriteFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_audit_write_failures_total",
			Help: "Audit events lost because the store could not write them.",
		}),
	}
	for _, transport := range []string{transportGRPC, transportREST} {
		g.unauthenticatedCalls.WithLabelValues(transport)
	}
	registry.MustRegister(g.unauthenticatedCalls, g.auditSuppressed, g.auditWriteFailures)
	return g
}

// The transports a call comes over, as metrics and logs name them.
const (
	transportGRPC = "grpc"
	transportREST = "rest"
	// transportSlack is a call Slack's signed request made.
	transportSlack = "slack"
)

// call is what the guard knows of one call while it runs.
type call struct {
	method    string
	rule      rule
	principal string
	requestID string
	target    string
	// unauthenticated is set when the caller's credentials were missing
	// or invalid.
	unauthenticated bool
}

// errPanicked is what a call whose handler panicked ends with, as the
// recovery interceptor answers it.
var errPanicked = status.Error(codes.Internal, "internal error")

func (g *guard) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if publicServices[serviceOf(info.FullMethod)] {
			return handler(ctx, req)
		}
		c := g.newCall(ctx, info.FullMethod, req)
		ctx, err := g.admit(ctx, c)
		if err != nil {
			g.record(ctx, c, err)
			return nil, err
		}
		ctx, cancel := g.withDeadline(ctx)
		defer cancel()
		// A handler that panics is recorded as it unwinds, on its way to
		// the recovery interceptor around the guard.
		returned := false
		defer func() {
			if !returned {
				g.record(ctx, c, errPanicked)
			}
		}()
		resp, err := handler(ctx, req)
		returned = true
		if c.target == "" {
			c.target = resourceName(resp)
		}
		g.record(ctx, c, err)
		return resp, err
	}
}

func (g *guard) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if publicServices[serviceOf(info.FullMethod)] {
			return handler(srv, ss)
		}
		c := g.newCall(ss.Context(), info.FullMethod, nil)
		ctx, err := g.admit(ss.Context(), c)
		if err != nil {
			g.record(ctx, c, err)
			return err
		}
		returned := false
		defer func() {
			if !returned {
				g.record(ctx, c, errPanicked)
			}
		}()
		err = handler(srv, &streamWithContext{ServerStream: ss, ctx: ctx})
		returned = true
		g.record(ctx, c, err)
		return err
	}
}

type streamWithContext struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *streamWithContext) Context() context.Context { return s.ctx }

func (g *guard) newCall(ctx context.Context, method string, req any) *call {
	r, known := rules[method]
	if !known {
		r = rule{role: auth.RoleAdmin, mutating: true} // denied below; audited as a possible change
	}
	c := &call{method: method, rule: r, principal: "anonymous", requestID: requestID(ctx, req), target: resourceName(req)}
	// The request id goes back to the caller (REST: Grpc-Metadata-X-Request-Id).
	grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, c.requestID))
	return c
}

// admit authenticates and authorizes a call, and returns the context the
// handler runs with, carrying the principal.
// The principal's rate limit comes before its role, so that its denied
// calls, audited one by one, are limited too.
func (g *guard) admit(ctx context.Context, c *call) (context.Context, error) {
	principal, err := g.authenticate(ctx)
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		// Backstage's keys could not be fetched: not the caller's fault.
		return ctx, status.Error(codes.Unavailable, "cannot verify the token now: "+err.Error())
	case err != nil:
		c.unauthenticated = true
		g.unauthenticatedCalls.WithLabelValues(transportOf(ctx)).Inc()
		return ctx, status.Error(codes.Unauthenticated, unauthenticatedMessage(err))
	}
	c.principal = principal.Name
	if wait, ok := g.limiter.allow(principal.Name); !ok {
		return ctx, retryLater(wait)
	}
	if _, known := rules[c.method]; !known {
		return ctx, status.Errorf(codes.PermissionDenied, "%s has no authorization rule", strings.TrimPrefix(c.method, "/"))
	}
	if !principal.Has(c.rule.role) {
		return ctx, status.Errorf(codes.PermissionDenied, "%s needs the %s role", strings.TrimPrefix(c.method, "/"), c.rule.role)
	}
	return audit.WithDetail(auth.NewContext(ctx, principal)), nil
}

// authenticate returns who is calling. A REST call was authenticated from
// its headers before its body was read (authenticateFirst), and a gRPC
// call usually before its message was (tap): that is the answer; else a
// gRPC call is authenticated from its metadata.
func (g *guard) authenticate(ctx context.Context) (*auth.Principal, error) {
	if rc := restCallOf(ctx); rc != nil {
		return rc.principal, rc.authErr
	}
	if p, ok := tappedPrincipal(ctx); ok {
		return p, nil
	}
	return g.authenticator.Authenticate(ctx, firstMetadata(ctx, "authorization"))
}

// unauthenticatedMessage says why a caller was not authenticated, in words
// that never include what the caller sent.
func unauthenticatedMessage(err error) string {
	if errors.Is(err, auth.ErrNoCredentials) {
		return "authentication required: send Authorization: Bearer <token>"
	}
	return "authentication failed: " + err.Error()
}

// withDeadline bounds every unary call: callers without a deadline get the
// configured one, and longer ones are cut to it.
func (g *guard) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.callTimeout)
}

// record writes the audit event of a mutating call. It runs whatever
// happened to the call, and outlives a caller who hung up. Events of
// unauthenticated calls are written at most at the unauthenticated audit
// rate; the others are counted.
func (g *guard) record(ctx context.Context, c *call, err error) {
	if !c.rule.mutating {
		return
	}
	if c.unauthenticated && !g.unauthenticatedAudit.AllowN(g.now(), 1) {
		g.auditSuppressed.Inc()
		g.suppressedLog.Do(func() {
			g.logger.Warn("unauthenticated calls come faster than the audit rate: counting them in cairn_audit_events_suppressed_total instead of auditing each",
				"rate", float64(g.unauthenticatedAudit.Limit()), "burst", g.unauthenticatedAudit.Burst())
		})
		return
	}
	rewritten, _ := apierr.Rewrite(err, c.method)
	code := status.Code(rewritten)
	outcome := "succeeded"
	switch code {
	case codes.OK:
	case codes.Unauthenticated, codes.PermissionDenied:
		outcome = "denied"
	default:
		outcome = "failed"
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	event := store.AuditEvent{
		Time:      g.now(),
		Principal: c.principal,
		Action:    strings.TrimPrefix(c.method, "/"),
		Target:    c.target,
		RequestID: c.requestID,
		Outcome:   outcome,
		Code:      code.String(),
		Detail:    audit.DetailOf(ctx),
	}
	if _, err := g.audit.AppendAuditEvent(ctx, event); err != nil {
		g.auditWriteFailures.Inc()
		// The event as the store would have kept it, and the error cut
		// short: a log line as bounded as the event.
		event = event.Bounded()
		g.logger.Error("writing the audit event failed: the event is lost", "action", event.Action, "principal", event.Principal,
			"target", event.Target, "request_id", event.RequestID, "outcome", outcome, "error", truncate(err.Error(), maxLoggedErrorBytes))
	}
}

// maxLoggedErrorBytes bounds a store error in a log line: a driver may
// quote what it was given.
const maxLoggedErrorBytes = 512

// truncate cuts s to at most n bytes, on a rune boundary, marked when cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func serviceOf(fullMethod string) string {
	service, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return service
}

func firstMetadata(ctx context.Context, key string) string {
	if values := metadata.ValueFromIncomingContext(ctx, key); len(values) > 0 {
		return values[0]
	}
	return ""
}

// requestID is the request's request_id field (AIP-155), else the caller's
// x-request-id, else a new one.
func requestID(ctx context.Context, req any) string {
	if id := stringField(req, "request_id"); id != "" {
		return id
	}
	if id := firstMetadata(ctx, RequestIDHeader); id != "" && len(id) <= 128 {
		return id
	}
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// resourceName finds what a request or response is about, as a resource
// name: its name or parent field, or the name of the resource it carries
// (RegisterService's response carries the service). A create that names
// its service by id (CreateService's name) or an event that names the
// service it is about (a deployment, an incident) is about services/{id}.
func resourceName(m any) string {
	for _, field := range []protoreflect.Name{"name", "parent"} {
		if v := stringField(m, field); v != "" {
			if !strings.Contains(v, "/") {
				return "services/" + v
			}
			return v
		}
	}
	if v := stringField(m, "service"); v != "" {
		return "services/" + v
	}
	msg, ok := m.(proto.Message)
	if !ok || msg == nil {
		return ""
	}
	var name string
	msg.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
			name = stringField(v.Message().Interface(), "name")
		}
		return name == ""
	})
	return name
}

func stringField(m any, name protoreflect.Name) string {
	msg, ok := m.(proto.Message)
	if !ok || msg == nil {
		return ""
	}
	fd := msg.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return ""
	}
	return msg.ProtoReflect().Get(fd).String()
}

// retryLater is the answer to a caller over its rate: RESOURCE_EXHAUSTED
// (429 over REST, with Retry-After) and how long to wait in RetryInfo.
func retryLater(wait time.Duration) error {
	st, _ := status.New(codes.ResourceExhausted, fmt.Sprintf("rate limit exceeded: retry in %s", wait.Round(time.Millisecond))).
		WithDetails(
			&errdetails.ErrorInfo{Reason: "RATE_LIMITED", Domain: apierr.Domain},
			&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)},
		)
	return st.Err()
}

// principalLimiter gives each principal a token bucket. A full bucket is
// the same as a new one, so full buckets are dropped: whenever the map has
// doubled since the last sweep (and holds at least minSweepSize), a sweep
// drops every full bucket. The map holds at most twice the principals
// that called within the time a bucket takes to refill (burst/limit), or
// minSweepSize.
type principalLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	sweepAt int // the size at which the next sweep runs
}

// minSweepSize is the fewest buckets worth a sweep.
const minSweepSize = 1024

func newPrincipalLimiter(perSecond float64, burst int, now func() time.Time) *principalLimiter {
	return &principalLimiter{limit: rate.Limit(perSecond), burst: burst, now: now, buckets: map[string]*rate.Limiter{}, sweepAt: minSweepSize}
}

// allow takes a token from the principal's bucket, or says how long until
// one is there. A limit of 0 turns limiting off.
func (l *principalLimiter) allow(principal string) (time.Duration, bool) {
	if l.limit == 0 {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	bucket, ok := l.buckets[principal]
	if !ok {
		if len(l.buckets) >= l.sweepAt {
			l.dropFull(now)
			l.sweepAt = max(minSweepSize, 2*len(l.buckets))
		}
		bucket = rate.NewLimiter(l.limit, l.burst)
		l.buckets[principal] = bucket
	}
	r := bucket.ReserveN(now, 1)
	if r.OK() && r.DelayFrom(now) == 0 {
		return 0, true
	}
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return max(wait, time.Millisecond), false
}

func (l *principalLimiter) dropFull(now time.Time) {
	for principal, bucket := range l.buckets {
		if bucket.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, principal)
		}
	}
}
