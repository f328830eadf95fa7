package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/cost"
)

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
	ctx, cancel := context.WithCancel(ctx) // abandons the import if reading the file fails
	defer cancel()
	stream, err := cairnv1.NewCostServiceClient(c.conn).ImportFocusCsv(ctx)
	if err != nil {
		return nil, err
	}
	return cost.UploadFocus(stream, source, r)
}
