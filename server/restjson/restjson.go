// Package restjson is how Cairn's REST facade writes JSON: the gateway's
// marshaler, and the statuses written by the HTTP handlers that run before
// or beside the gateway (body limits, the FOCUS upload) in the same shape
// the gateway gives a failed call.
package restjson

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cairn-dev/cairn/server/apierr"
)

// Marshaler writes every field, zero or not: Backstage cards read
// `previousMonthlyCost: 0` and `breakdown: []` rather than missing keys. It
// refuses unknown fields, so a misspelt field is an error, not ignored.
var Marshaler = &runtime.JSONPb{
	MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
	UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
}

// WriteStatus writes a status as the gateway would: its JSON, and the HTTP
// status that matches its code unless code says otherwise.
func WriteStatus(w http.ResponseWriter, st *status.Status, code int) {
	if code == 0 {
		code = runtime.HTTPStatusFromCode(st.Code())
	}
	body, _ := Marshaler.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(body)
}

// WriteTooLarge answers 413 to a body larger than max, with
// RESOURCE_EXHAUSTED and reason REQUEST_TOO_LARGE.
func WriteTooLarge(w http.ResponseWriter, max int64) {
	st, _ := status.New(codes.ResourceExhausted, fmt.Sprintf("request body is larger than %d bytes", max)).
		WithDetails(&errdetails.ErrorInfo{
			Reason:   "REQUEST_TOO_LARGE",
			Domain:   apierr.Domain,
			Metadata: map[string]string{"limitBytes": strconv.FormatInt(max, 10)},
		})
	w.Header().Set("Connection", "close") // the rest of the body is not read
	WriteStatus(w, st, http.StatusRequestEntityTooLarge)
}

// WriteBodyTimeout answers 408 to a body that came too slowly: HTTP's own
// status for it, with DEADLINE_EXCEEDED, the nearest canonical code.
func WriteBodyTimeout(w http.ResponseWriter, message string) {
	st, _ := status.New(codes.DeadlineExceeded, message).
		WithDetails(&errdetails.ErrorInfo{Reason: "REQUEST_BODY_TIMEOUT", Domain: apierr.Domain})
	w.Header().Set("Connection", "close")
	WriteStatus(w, st, http.StatusRequestTimeout)
}
