package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// importChunkBytes is how much of the file each stream message carries.
const importChunkBytes = 256 << 10

func costImport() command {
	return command{
		name: "import", args: "FILE --source NAME", nargs: 1,
		summary: "import a FinOps FOCUS CSV file; a re-import from the same source replaces the months it covers",
		define: func(fs *flag.FlagSet) action {
			source := fs.String("source", "", "`name` of where the file comes from, such as aws-cur (required)")
			return func(ctx context.Context, c *client, args []string) error {
				if *source == "" {
					return usageErrorf("--source is required")
				}
				file, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer file.Close()
				// No --timeout here: a large file takes as long as it takes.
				resp, err := c.importFocus(ctx, *source, file)
				if err != nil {
					return err
				}
				return c.show(resp, fmt.Sprintf("imported %d rows (%s)\nunmapped: %d rows, %.2f %s\n",
					resp.GetRowCount(), args[0], resp.GetUnmappedRowCount(), resp.GetUnmappedCost(), resp.GetCurrency()))
			}
		},
	}
}

// importFocus streams r to ImportFocusCsv.
func (c *client) importFocus(ctx context.Context, source string, r io.Reader) (*cairnv1.ImportFocusCsvResponse, error) {
	stream, err := cairnv1.NewCostServiceClient(c.conn).ImportFocusCsv(ctx)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, importChunkBytes)
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
			return nil, readErr
		}
	}
	return stream.CloseAndRecv()
}
