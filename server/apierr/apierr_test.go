package apierr

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-dev/cairn/store"
)

func TestRewrite(t *testing.T) {
	const method = "/cairn.v1.CatalogService/GetService"
	tests := []struct {
		name     string
		err      error
		code     codes.Code
		reason   string
		internal bool
	}{
		{"a domain error keeps its code", NotFound("service", "x"), codes.NotFound, "SERVICE_NOT_FOUND", false},
		{"a wrapped domain error too", fmt.Errorf("ctx: %w", EtagMismatch("service", "x")), codes.Aborted, "ETAG_MISMATCH", false},
		{"an unreachable store is UNAVAILABLE", fmt.Errorf("ping: %w", store.ErrUnavailable), codes.Unavailable, "STORE_UNAVAILABLE", false},
		{"a store's missing service is SERVICE_NOT_FOUND", &store.ResourceError{Kind: "service", Name: "x", Err: fmt.Errorf("get: %w", store.ErrNotFound)}, codes.NotFound, "SERVICE_NOT_FOUND", false},
		{"a store's stale etag of a service is ETAG_MISMATCH", &store.ResourceError{Kind: "service", Name: "x", Err: store.ErrEtagMismatch}, codes.Aborted, "ETAG_MISMATCH", false},
		{"a store's missing record is NOT_FOUND", fmt.Errorf("get: %w", store.ErrNotFound), codes.NotFound, "NOT_FOUND", false},
		{"a store's taken key is ALREADY_EXISTS", store.ErrAlreadyExists, codes.AlreadyExists, "ALREADY_EXISTS", false},
		{"a store's conflict is FAILED_PRECONDITION", store.ErrConflict, codes.FailedPrecondition, "CONFLICT", false},
		{"a method not built yet says so", status.Error(codes.Unimplemented, "method X not implemented"), codes.Unimplemented, "METHOD_NOT_BUILT", false},
		{"a canceled call", context.Canceled, codes.Canceled, "", false},
		{"a canonical status passes through", status.Error(codes.ResourceExhausted, "too big"), codes.ResourceExhausted, "", false},
		{"anything else is INTERNAL and hidden", errors.New("disk I/O error at /var/lib/secret"), codes.Internal, "INTERNAL", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, internal := Rewrite(tt.err, method)
			require.Equal(t, tt.internal, internal)
			st := status.Convert(got)
			require.Equal(t, tt.code, st.Code())
			require.NotContains(t, st.Message(), "/var/lib/secret")
			if tt.reason == "" {
				return
			}
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				if i, ok := d.(*errdetails.ErrorInfo); ok {
					info = i
				}
			}
			require.NotNil(t, info)
			require.Equal(t, tt.reason, info.GetReason())
			require.Equal(t, Domain, info.GetDomain())
		})
	}
}

func TestInvalidListsEveryViolationInOneBadRequest(t *testing.T) {
	require.NoError(t, Invalid())
	err := Invalid(
		FieldViolation{Field: "service.name", Description: "is required"},
		FieldViolation{Field: "service.owner", Description: "is required"},
	)
	got, _ := Rewrite(err, "/m")
	st := status.Convert(got)
	require.Equal(t, codes.InvalidArgument, st.Code())
	var badRequests []*errdetails.BadRequest
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			badRequests = append(badRequests, br)
		}
	}
	require.Len(t, badRequests, 1)
	require.Len(t, badRequests[0].GetFieldViolations(), 2)
	require.Equal(t, "service.owner", badRequests[0].GetFieldViolations()[1].GetField())
}

// The fallback names a service as the domains did: same code, reason,
// message and metadata as NotFound and EtagMismatch.
func TestRewriteOfAStoreErrorAboutAServiceIsTheDomainsError(t *testing.T) {
	for _, tc := range []struct {
		sentinel, domain error
	}{
		{store.ErrNotFound, NotFound("service", "orders")},
		{store.ErrEtagMismatch, EtagMismatch("service", "orders")},
	} {
		want, _ := Rewrite(tc.domain, "/m")
		got, _ := Rewrite(fmt.Errorf("catalog: %w", &store.ResourceError{Kind: "service", Name: "orders", Err: tc.sentinel}), "/m")
		require.True(t, proto.Equal(status.Convert(want).Proto(), status.Convert(got).Proto()), "%v, want %v", got, want)
	}
}
