package cost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"google.golang.org/grpc/codes"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/cost/focus"
	"github.com/cairn-dev/cairn/store"
)

var sourceName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,62}[a-z0-9])?$`)

// ImportFocusCsv implements CostService: it streams a FinOps FOCUS CSV file
// into the store as it arrives. The first message names the source; a
// re-import from the same source replaces the months it covers. The file
// is imported whole or not at all: a bad row (among them one in another
// currency than cost.currency, or a record past focus.MaxRecordBytes)
// answers INVALID_ARGUMENT with its row number and leaves earlier data as
// it was.
func (s *Server) ImportFocusCsv(stream cairnv1.CostService_ImportFocusCsvServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return apierr.Invalid(apierr.FieldViolation{Field: "source", Description: "is required: send it in the first message"})
	}
	if err != nil {
		return err
	}
	source := first.GetSource()
	if !sourceName.MatchString(source) {
		return apierr.Invalid(apierr.FieldViolation{Field: "source", Description: "must be a lowercase name such as aws-cur"})
	}

	// The file flows from the stream through a pipe into the parser, so
	// that memory stays flat whatever its size.
	pr, pw := io.Pipe()
	go func() {
		msg := first
		for {
			if _, err := pw.Write(msg.GetData()); err != nil {
				return // the import stopped reading: it has its answer
			}
			msg, err = stream.Recv()
			if errors.Is(err, io.EOF) {
				pw.Close()
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	summary, err := s.importFocus(stream.Context(), source, pr)
	pr.CloseWithError(errImportDone)
	if err != nil {
		return err
	}
	return stream.SendAndClose(&cairnv1.ImportFocusCsvResponse{
		RowCount:         summary.Rows,
		UnmappedRowCount: summary.UnmappedRows,
		UnmappedCost:     units(summary.UnmappedCost),
		Currency:         summary.Currency,
	})
}

var errImportDone = errors.New("import finished")

func (s *Server) importFocus(ctx context.Context, source string, r io.Reader) (store.BillingImport, error) {
	rows := focus.Read(r, focus.Options{MappingTag: s.config.mappingTag(), Currency: s.config.Currency})
	summary, err := s.store.ReplaceBilling(ctx, source, rows)
	var rowErr *focus.RowError
	if errors.As(err, &rowErr) {
		return summary, &apierr.Error{
			Code:     codes.InvalidArgument,
			Reason:   "INVALID_FOCUS_ROW",
			Message:  fmt.Sprintf("the file was not imported: %v", rowErr),
			Metadata: map[string]string{"row": strconv.Itoa(rowErr.Row), "column": rowErr.Column},
			Violations: []apierr.FieldViolation{{
				Field: "data", Description: rowErr.Error(),
			}},
		}
	}
	return summary, err
}

// focusChunkBytes is how much of a file each ImportFocusCsv message
// carries: well under the gRPC message limit.
const focusChunkBytes = 256 << 10

// UploadFocus sends r to ImportFocusCsv, source in the first message, and
// returns the server's answer. An error reading r is returned as it is,
// not as a gRPC status, so that callers can tell it from the server's; they
// must then cancel the stream's context.
func UploadFocus(stream cairnv1.CostService_ImportFocusCsvClient, source string, r io.Reader) (*cairnv1.ImportFocusCsvResponse, error) {
	buf := make([]byte, focusChunkBytes)
	for first := true; ; first = false {
		n, readErr := io.ReadFull(r, buf)
		if n > 0 || first {
			msg := &cairnv1.ImportFocusCsvRequest{Data: buf[:n]}
			if first {
				msg.Source = source
			}
			if err := stream.Send(msg); err != nil {
				break // the server ended the call: CloseAndRecv says why
			}
		}
		if errors.Is(readErr, io.EOF) || errors.Is(readErr, io.ErrUnexpectedEOF) {
			break
		}
		if readErr != nil {
			// Not CloseSend, which would import the file cut short: the
			// caller's cancelled context abandons the call, and the import
			// rolls back.
			return nil, readErr
		}
	}
	return stream.CloseAndRecv()
}
