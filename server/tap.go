package server

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/cairn-dev/cairn/server/auth"
)

// tappedKey carries the principal the gRPC tap authenticated to the guard.
type tappedKey struct{}

// tap authenticates a gRPC call from its headers before its message is
// read, and refuses it there when its credentials are missing or wrong:
// grpc-go reads a whole request message (up to --max-request-bytes) before
// any interceptor runs, so a caller without a token could otherwise make
// Cairn hold that much for every call whose message it withholds. As the
// REST facade's authenticateFirst does for bodies.
//
// The tap runs on the connection's reader, so it never waits for
// Backstage's keys: a token signed by a key not fetched yet goes on to the
// guard, which waits for them.
func (g *guard) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	if publicServices[serviceOf(info.FullMethodName)] {
		return ctx, nil
	}
	var authorization string
	if values := info.Header.Get("authorization"); len(values) > 0 {
		authorization = values[0]
	}
	noWait, cancel := context.WithCancel(ctx)
	cancel()
	principal, err := g.authenticator.Authenticate(noWait, authorization)
	switch {
	case err == nil:
		return context.WithValue(ctx, tappedKey{}, principal), nil
	case errors.Is(err, auth.ErrUnavailable):
		return ctx, nil
	}
	g.unauthenticatedCalls.WithLabelValues(transportGRPC).Inc()
	refused := status.Error(codes.Unauthenticated, unauthenticatedMessage(err))
	r, known := rules[info.FullMethodName]
	if !known {
		r = rule{role: auth.RoleAdmin, mutating: true}
	}
	id := requestID(metadata.NewIncomingContext(ctx, info.Header), nil)
	// The message is never read, so the event names no target. Its write
	// is limited by the unauthenticated audit rate, and holds up only
	// this caller's connection.
	g.record(ctx, &call{method: info.FullMethodName, rule: r, principal: "anonymous", requestID: id, unauthenticated: true}, refused)
	return nil, refused
}

// tappedPrincipal is the principal the tap authenticated a gRPC call as.
func tappedPrincipal(ctx context.Context) (*auth.Principal, bool) {
	p, ok := ctx.Value(tappedKey{}).(*auth.Principal)
	return p, ok
}
