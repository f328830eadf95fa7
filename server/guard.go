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
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/store"
)

// RequestIDHeader carries a caller's request identifier; Cairn sends it
// back, making one when the caller did not.
const RequestIDHeader = "x-request-id"

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
}

// call is what the guard knows of one call while it runs.
type call struct {
	method    string
	rule      rule
	principal string
	requestID string
	target    string
}

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
		resp, err := handler(ctx, req)
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
		if err == nil {
			err = handler(srv, &streamWithContext{ServerStream: ss, ctx: ctx})
		}
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
func (g *guard) admit(ctx context.Context, c *call) (context.Context, error) {
	principal, err := g.authenticator.Authenticate(ctx, firstMetadata(ctx, "authorization"))
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		// Backstage's keys could not be fetched: not the caller's fault.
		return ctx, status.Error(codes.Unavailable, "cannot verify the token now: "+err.Error())
	case err != nil:
		return ctx, status.Error(codes.Unauthenticated, unauthenticatedMessage(err))
	}
	c.principal = principal.Name
	if _, known := rules[c.method]; !known {
		return ctx, status.Errorf(codes.PermissionDenied, "%s has no authorization rule", strings.TrimPrefix(c.method, "/"))
	}
	if !principal.Has(c.rule.role) {
		return ctx, status.Errorf(codes.PermissionDenied, "%s needs the %s role", strings.TrimPrefix(c.method, "/"), c.rule.role)
	}
	if wait, ok := g.limiter.allow(principal.Name); !ok {
		return ctx, retryLater(wait)
	}
	return auth.NewContext(ctx, principal), nil
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
// happened to the call, and outlives a caller who hung up.
func (g *guard) record(ctx context.Context, c *call, err error) {
	if !c.rule.mutating {
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
		Time:      time.Now(),
		Principal: c.principal,
		Action:    strings.TrimPrefix(c.method, "/"),
		Target:    c.target,
		RequestID: c.requestID,
		Outcome:   outcome,
		Code:      code.String(),
	}
	if _, err := g.audit.AppendAuditEvent(ctx, event); err != nil {
		g.logger.Error("writing the audit event failed", "action", event.Action, "principal", event.Principal,
			"target", event.Target, "request_id", event.RequestID, "outcome", outcome, "error", err)
	}
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

// principalLimiter gives each principal a token bucket.
type principalLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newPrincipalLimiter(perSecond float64, burst int) *principalLimiter {
	return &principalLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*rate.Limiter{}}
}

// allow takes a token from the principal's bucket, or says how long until
// one is there. A limit of 0 turns limiting off.
func (l *principalLimiter) allow(principal string) (time.Duration, bool) {
	if l.limit == 0 {
		return 0, true
	}
	l.mu.Lock()
	bucket, ok := l.buckets[principal]
	if !ok {
		bucket = rate.NewLimiter(l.limit, l.burst)
		l.buckets[principal] = bucket
	}
	l.mu.Unlock()
	r := bucket.Reserve()
	if r.OK() && r.Delay() == 0 {
		return 0, true
	}
	wait := r.Delay()
	r.Cancel()
	return max(wait, time.Millisecond), false
}
