// Package apierr is how Cairn's domain packages say what went wrong, and the
// one place where that becomes a gRPC status: a canonical code, a
// google.rpc.ErrorInfo, and for bad input one google.rpc.BadRequest listing
// every field violation (AIP-193). grpc-gateway turns the same status into
// the matching HTTP status with the details in the JSON body.
package apierr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/cairn-dev/cairn/store"
)

// Domain is the ErrorInfo domain of every error Cairn produces.
const Domain = "cairn.dev"

// Error is a failure the caller should see as it is.
type Error struct {
	Code       codes.Code
	Reason     string // UPPER_SNAKE_CASE, stable, for programs to match on
	Message    string // for people
	Metadata   map[string]string
	Violations []FieldViolation
}

// FieldViolation is one problem with one field of a request.
type FieldViolation struct {
	Field       string // path to the field, such as `service.tags[2]`
	Description string
}

func (e *Error) Error() string { return e.Message }

// Invalid reports bad input. It returns nil when there are no violations, so
// that callers can collect violations and return Invalid(v...) at the end.
func Invalid(violations ...FieldViolation) error {
	if len(violations) == 0 {
		return nil
	}
	fields := make([]string, 0, len(violations))
	for _, v := range violations {
		fields = append(fields, v.Field)
	}
	return &Error{
		Code:       codes.InvalidArgument,
		Reason:     "INVALID_ARGUMENT",
		Message:    "invalid request: check " + strings.Join(fields, ", "),
		Violations: violations,
	}
}

// NotFound reports that a resource of the given kind and name does not exist.
func NotFound(kind, name string) error { return notFound(kind, name) }

func notFound(kind, name string) *Error {
	return &Error{
		Code:     codes.NotFound,
		Reason:   strings.ToUpper(kind) + "_NOT_FOUND",
		Message:  fmt.Sprintf("%s %q not found", kind, name),
		Metadata: map[string]string{kind: name},
	}
}

// EtagMismatch reports that a resource changed since the caller read it.
func EtagMismatch(kind, name string) error { return etagMismatch(kind, name) }

func etagMismatch(kind, name string) *Error {
	return &Error{
		Code:     codes.Aborted,
		Reason:   "ETAG_MISMATCH",
		Message:  fmt.Sprintf("%s %q changed since it was read: read it again and retry", kind, name),
		Metadata: map[string]string{kind: name},
	}
}

// Rewrite turns any error a handler returns into the status a client sees.
// method is the full gRPC method name. Errors it cannot classify become
// INTERNAL with a fixed message: internal details never reach a client, and
// the second result tells the caller to log the original.
func Rewrite(err error, method string) (rewritten error, internal bool) {
	if err == nil {
		return nil, false
	}
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr.status(), false
	case errors.Is(err, store.ErrUnavailable):
		return (&Error{
			Code:    codes.Unavailable,
			Reason:  "STORE_UNAVAILABLE",
			Message: "the store is unavailable; retry later",
		}).status(), false
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrEtagMismatch),
		errors.Is(err, store.ErrAlreadyExists), errors.Is(err, store.ErrConflict):
		return storeError(err).status(), false
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the call was canceled"), false
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the call's deadline passed"), false
	}
	if st, ok := status.FromError(err); ok {
		if st.Code() == codes.Unimplemented {
			return (&Error{
				Code:     codes.Unimplemented,
				Reason:   "METHOD_NOT_BUILT",
				Message:  fmt.Sprintf("%s is part of Cairn's API but this server does not implement it yet", strings.TrimPrefix(method, "/")),
				Metadata: map[string]string{"method": strings.TrimPrefix(method, "/")},
			}).status(), false
		}
		if st.Code() != codes.Unknown && st.Code() != codes.Internal {
			return err, false
		}
	}
	return (&Error{Code: codes.Internal, Reason: "INTERNAL", Message: "internal error"}).status(), true
}

// storeError is the fallback for the store's sentinel errors that no
// domain mapped: it names the resource when the store says which (see
// store.ResourceError), as NotFound and EtagMismatch do.
func storeError(err error) *Error {
	resource, named := errors.AsType[*store.ResourceError](err)
	switch {
	case errors.Is(err, store.ErrNotFound) && named:
		return notFound(resource.Kind, resource.Name)
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: codes.NotFound, Reason: "NOT_FOUND", Message: "not found"}
	case errors.Is(err, store.ErrEtagMismatch) && named:
		return etagMismatch(resource.Kind, resource.Name)
	case errors.Is(err, store.ErrEtagMismatch):
		return &Error{Code: codes.Aborted, Reason: "ETAG_MISMATCH", Message: "changed since it was read: read it again and retry"}
	case errors.Is(err, store.ErrAlreadyExists):
		return &Error{Code: codes.AlreadyExists, Reason: "ALREADY_EXISTS", Message: "already exists"}
	}
	return &Error{Code: codes.FailedPrecondition, Reason: "CONFLICT", Message: "not in a state that allows the change"}
}

func (e *Error) status() error {
	st := status.New(e.Code, e.Message)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: e.Reason, Domain: Domain, Metadata: e.Metadata}}
	if len(e.Violations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range e.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field:       v.Field,
				Description: v.Description,
			})
		}
		details = append(details, br)
	}
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		// Only fails for messages that cannot be marshalled into Any, which
		// these two always can; keep the status without details regardless.
		return st.Err()
	}
	return withDetails.Err()
}

// PermissionDenied reports that the caller may not do what it asked.
func PermissionDenied(reason, message string) error {
	return &Error{Code: codes.PermissionDenied, Reason: reason, Message: message}
}
