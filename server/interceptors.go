package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-dev/cairn/server/apierr"
)

// validateUnary enforces the rules declared in the protos (protovalidate)
// before a handler runs, reporting every violation in one BadRequest.
func validateUnary(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := validateMessage(v, req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// validateStream does the same for every message a client streams in.
func validateStream(v protovalidate.Validator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &validatingStream{ServerStream: ss, validator: v})
	}
}

type validatingStream struct {
	grpc.ServerStream
	validator protovalidate.Validator
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return validateMessage(s.validator, m)
}

func validateMessage(v protovalidate.Validator, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("validate: %T is not a protobuf message", m)
	}
	err := v.Validate(msg)
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return err // nil, or a rule that failed to evaluate: internal
	}
	violations := make([]apierr.FieldViolation, 0, len(verr.Violations))
	for _, violation := range verr.Violations {
		field := protovalidate.FieldPathString(violation.Proto.GetField())
		if field == "" {
			field = string(msg.ProtoReflect().Descriptor().Name())
		}
		violations = append(violations, apierr.FieldViolation{Field: field, Description: violation.Proto.GetMessage()})
	}
	return apierr.Invalid(violations...)
}

// rewriteErrorsUnary passes every handler error through apierr.Rewrite, the
// one translation to client-facing statuses, and logs what it hides.
func rewriteErrorsUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, rewriteError(ctx, logger, err, info.FullMethod)
		}
		return resp, nil
	}
}

func rewriteErrorsStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := handler(srv, ss); err != nil {
			return rewriteError(ss.Context(), logger, err, info.FullMethod)
		}
		return nil
	}
}

func rewriteError(ctx context.Context, logger *slog.Logger, err error, method string) error {
	rewritten, internal := apierr.Rewrite(err, method)
	if internal {
		logger.ErrorContext(ctx, "call failed", "method", method, "error", err)
	}
	return rewritten
}

// clientFields name, in a call's log, the transport it came over and the
// client: for a REST call the HTTP client's address, in place of the
// in-process channel's. X-Forwarded-For is not logged: any client can
// write it, and Cairn does not know which proxies in front of it to trust.
func clientFields(ctx context.Context) logging.Fields {
	if rc := restCallOf(ctx); rc != nil {
		return logging.Fields{"transport", transportREST, "peer.address", rc.remoteAddr}
	}
	return logging.Fields{"transport", transportGRPC}
}

// callLogger adapts slog to go-grpc-middleware's logging interceptors.
func callLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, level logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(level), msg, fields...)
	})
}
