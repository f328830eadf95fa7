package cost

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/restjson"
)

// maxFocusBytes bounds one uploaded billing file.
const maxFocusBytes = 4 << 30

// FocusImportHandler serves `POST /v1/costs:importFocus?source=NAME` with a
// FOCUS CSV file as a `text/csv` body. grpc-gateway cannot stream a raw
// body into a client-streaming RPC, so this handler does: it relays the
// body to ImportFocusCsv over conn, the in-process channel, carrying the
// request headers that forward names (HTTP header to metadata key: the
// caller's Authorization and request id), so authentication,
// authorization, limits and the audit log apply as to any call.
func FocusImportHandler(conn grpc.ClientConnInterface, forward map[string]string) http.Handler {
	client := cairnv1.NewCostServiceClient(conn)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(mediaType) != "text/csv" {
			restjson.WriteStatus(w, status.New(codes.InvalidArgument, "send the FOCUS file as the body with Content-Type: text/csv"), http.StatusUnsupportedMediaType)
			return
		}
		md := metadata.MD{}
		for header, key := range forward {
			if v := r.Header.Get(header); v != "" {
				md.Set(key, v)
			}
		}
		ctx := metadata.NewOutgoingContext(r.Context(), md)
		stream, err := client.ImportFocusCsv(ctx)
		if err != nil {
			restjson.WriteStatus(w, status.Convert(err), 0)
			return
		}
		body := &readFailure{Reader: http.MaxBytesReader(w, r.Body, maxFocusBytes)}
		resp, err := UploadFocus(stream, r.URL.Query().Get("source"), body)
		// A body that failed is why the call failed, whatever the call
		// says: a failed read of the connection also cancels the call.
		var tooLarge *http.MaxBytesError
		switch {
		case errors.Is(body.err, os.ErrDeadlineExceeded):
			restjson.WriteBodyTimeout(w, "the upload paused too long or came slower than the minimum rate")
			return
		case errors.As(body.err, &tooLarge):
			restjson.WriteTooLarge(w, maxFocusBytes)
			return
		case body.err != nil:
			restjson.WriteStatus(w, status.New(codes.InvalidArgument, "reading the upload: "+body.err.Error()), http.StatusBadRequest)
			return
		}
		if err != nil {
			restjson.WriteStatus(w, status.Convert(err), 0)
			return
		}
		out, _ := restjson.Marshaler.Marshal(resp)
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	})
}

// readFailure remembers the error a read ended with, other than the end.
type readFailure struct {
	io.Reader
	err error
}

func (r *readFailure) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}
