package cli

import (
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// rpcError is a failed call as an operator should read it: Cairn's message,
// each field violation, then the code and ErrorInfo reason that scripts and
// bug reports need.
type rpcError struct{ st *status.Status }

// describe turns a gRPC status error into an rpcError; other errors pass.
func describe(err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return &rpcError{st: st}
	}
	return err
}

func (e *rpcError) Error() string {
	var b strings.Builder
	b.WriteString(e.st.Message())
	reason := ""
	for _, d := range e.st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Fprintf(&b, "\n  %s: %s", v.GetField(), v.GetDescription())
			}
		case *errdetails.ErrorInfo:
			reason = d.GetReason()
		}
	}
	fmt.Fprintf(&b, "\n  code %s", e.st.Code())
	if reason != "" {
		fmt.Fprintf(&b, ", reason %s", reason)
	}
	return b.String()
}

// GRPCStatus lets status.Code and status.FromError see through.
func (e *rpcError) GRPCStatus() *status.Status { return e.st }
