package server

import (
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/cost"
)

// maxFocusBytes bounds one uploaded billing file.
const maxFocusBytes = 4 << 30

// focusImportHandler serves `POST /v1/costs:importFocus?source=NAME` with a
// FOCUS CSV file as a `text/csv` body. grpc-gateway cannot stream a raw
// body into a client-streaming RPC, so this handler does: it relays the
// body to ImportFocusCsv over the in-process channel, carrying the
// caller's Authorization and request id, so authentication, authorization,
// limits and the audit log apply as to any call.
func focusImportHandler(conn grpc.ClientConnInterface) http.Handler {
	client := cairnv1.NewCostServiceClient(conn)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(mediaType) != "text/csv" {
			writeStatus(w, status.New(codes.InvalidArgument, "send the FOCUS file as the body with Content-Type: text/csv"), http.StatusUnsupportedMediaType)
			return
		}
		md := metadata.MD{}
		for header, key := range map[string]string{"Authorization": "authorization", "X-Request-Id": RequestIDHeader} {
			if v := r.Header.Get(header); v != "" {
				md.Set(key, v)
			}
		}
		ctx := metadata.NewOutgoingContext(r.Context(), md)
		stream, err := client.ImportFocusCsv(ctx)
		if err != nil {
			writeStatus(w, status.Convert(err), 0)
			return
		}
		resp, err := cost.UploadFocus(stream, r.URL.Query().Get("source"), http.MaxBytesReader(w, r.Body, maxFocusBytes))
		if _, fromServer := status.FromError(err); err != nil && !fromServer {
			writeStatus(w, status.New(codes.InvalidArgument, "reading the upload: "+err.Error()), http.StatusBadRequest)
			return
		}
		if err != nil {
			writeStatus(w, status.Convert(err), 0)
			return
		}
		out, _ := jsonMarshaler.Marshal(resp)
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	})
}

// writeStatus writes a status as the gateway would: its JSON, and the HTTP
// status that matches its code unless code says otherwise.
func writeStatus(w http.ResponseWriter, st *status.Status, code int) {
	if code == 0 {
		code = runtime.HTTPStatusFromCode(st.Code())
	}
	body, _ := jsonMarshaler.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(body)
}
