package costbench

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/server/cost"
	"github.com/cairn-dev/cairn/server/cost/focus"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// BenchmarkImportFocus imports the million-row FOCUS file through
// ImportFocusCsv, as `cairn cost import` and the HTTP upload do: the file
// streamed over gRPC, read by the FOCUS reader, written by the store. Each
// engine imports it into an empty store (into-empty) and over its own
// earlier import, replacing both months (replacing); store-alone is the
// store's share, its rows read beforehand into memory. Beside them, psql's
// \copy loads the same rows, as CSV, into a table of the same columns
// without indexes, on the same PostgreSQL server.
func BenchmarkImportFocus(b *testing.B) {
	dir := b.TempDir()
	file := writeFocusFile(b, dir)
	fileRows := sync.OnceValues(func() ([]store.BillingRow, error) { return readFocusFile(file) })
	engines := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", openSQLite},
		{"postgres", openPostgres},
	}
	for _, engine := range engines {
		b.Run(engine.name+"/into-empty", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				st := engine.open(b)
				client := newCostClient(b, st)
				b.StartTimer()
				importFocus(b, client, file)
				b.StopTimer()
				require.NoError(b, st.Close())
				b.StartTimer()
			}
			reportRows(b)
		})
		b.Run(engine.name+"/store-alone", func(b *testing.B) {
			rows, err := fileRows()
			require.NoError(b, err)
			for b.Loop() {
				b.StopTimer()
				st := engine.open(b)
				b.StartTimer()
				summary, err := st.ReplaceBilling(b.Context(), "aws-cur", func(yield func(store.BillingRow, error) bool) {
					for _, row := range rows {
						if !yield(row, nil) {
							return
						}
					}
				})
				require.NoError(b, err)
				require.Equal(b, int64(focusRows), summary.Rows)
				b.StopTimer()
				require.NoError(b, st.Close())
				b.StartTimer()
			}
			reportRows(b)
		})
		b.Run(engine.name+"/replacing", func(b *testing.B) {
			st := engine.open(b)
			b.Cleanup(func() { st.Close() })
			client := newCostClient(b, st)
			importFocus(b, client, file)
			for b.Loop() {
				importFocus(b, client, file)
			}
			reportRows(b)
		})
	}
	b.Run("postgres-psql-copy", func(b *testing.B) {
		psql := psqlPath(b)
		rows := writeRowsCSV(b, dir, file)
		for b.Loop() {
			b.StopTimer()
			url := pgtest.Shared(b).NewDatabase(b)
			runPsql(b, psql, url, `CREATE TABLE billing_copy (`+copyColumnTypes+`)`)
			b.StartTimer()
			runPsql(b, psql, url, `\copy billing_copy (`+copyColumns+`) FROM '`+rows+`' WITH (FORMAT csv)`)
		}
		reportRows(b)
	})
}

// reportRows reports the rows imported per second, of every op.
func reportRows(b *testing.B) {
	b.ReportMetric(float64(focusRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func openSQLite(b *testing.B) store.Store {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "cairn.db"))
	require.NoError(b, err)
	require.NoError(b, st.Migrate(b.Context()))
	return st
}

func openPostgres(b *testing.B) store.Store {
	st, err := postgres.Open(b.Context(), pgtest.Shared(b).NewDatabase(b))
	require.NoError(b, err)
	require.NoError(b, st.Migrate(b.Context()))
	return st
}

// newCostClient serves the cost service over st in process, with nothing
// but gRPC between the client and it.
func newCostClient(tb testing.TB, st cost.Store) cairnv1.CostServiceClient {
	tb.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	cairnv1.RegisterCostServiceServer(srv, cost.NewServer(st, cost.DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings()))
	go srv.Serve(lis)
	tb.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///cost",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(tb, err)
	tb.Cleanup(func() { conn.Close() })
	return cairnv1.NewCostServiceClient(conn)
}

// importFocus uploads the file at path as `cairn cost import` does.
func importFocus(tb testing.TB, client cairnv1.CostServiceClient, path string) {
	tb.Helper()
	f, err := os.Open(path)
	require.NoError(tb, err)
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := client.ImportFocusCsv(ctx)
	require.NoError(tb, err)
	resp, err := cost.UploadFocus(stream, "aws-cur", bufio.NewReaderSize(f, 1<<20))
	require.NoError(tb, err)
	require.Equal(tb, int64(focusRows), resp.GetRowCount())
}

// readFocusFile reads the rows of the FOCUS file at path into memory.
func readFocusFile(path string) ([]store.BillingRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows := make([]store.BillingRow, 0, focusRows)
	for row, err := range focus.Read(bufio.NewReaderSize(f, 1<<20), focus.Options{}) {
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// The plain table psql copies into: the columns of billing_rows that an
// import writes, with their types, and no key or index.
const (
	copyColumns     = `source, month, charge_period_start, charge_period_end, charge_category, service, resource_id, service_name, service_category, currency, billed_cost, effective_cost, list_cost`
	copyColumnTypes = `source text NOT NULL, month text NOT NULL, charge_period_start timestamptz NOT NULL, charge_period_end timestamptz NOT NULL,
		charge_category text NOT NULL, service text COLLATE "C" NOT NULL, resource_id text COLLATE "C" NOT NULL, service_name text NOT NULL,
		service_category text NOT NULL, currency text NOT NULL, billed_cost bigint NOT NULL, effective_cost bigint NOT NULL, list_cost bigint NOT NULL`
)

// writeRowsCSV writes the rows Cairn reads from the FOCUS file at focusFile
// as a CSV of copyColumns, for psql to copy.
func writeRowsCSV(tb testing.TB, dir, focusFile string) string {
	tb.Helper()
	in, err := os.Open(focusFile)
	require.NoError(tb, err)
	defer in.Close()
	path := filepath.Join(dir, "rows.csv")
	out, err := os.Create(path)
	require.NoError(tb, err)
	defer out.Close()
	w := bufio.NewWriterSize(out, 1<<20)
	var line []byte
	for row, err := range focus.Read(bufio.NewReaderSize(in, 1<<20), focus.Options{}) {
		require.NoError(tb, err)
		line = append(line[:0], "aws-cur,"...)
		line = row.ChargePeriodStart.AppendFormat(line, "2006-01")
		line = append(line, ',')
		line = row.ChargePeriodStart.AppendFormat(line, time.RFC3339Nano)
		line = append(line, ',')
		line = row.ChargePeriodEnd.AppendFormat(line, time.RFC3339Nano)
		for _, text := range []string{row.ChargeCategory, row.Service, row.ResourceID, row.ServiceName, row.ServiceCategory, row.Currency} {
			line = append(line, ',')
			if text == "" {
				line = append(line, `""`...) // unquoted, it would be NULL
			}
			line = append(line, text...) // the benchmark's values need no other quoting
		}
		for _, n := range []int64{row.BilledCost, row.EffectiveCost, row.ListCost} {
			line = append(line, ',')
			line = strconv.AppendInt(line, n, 10)
		}
		line = append(line, '\n')
		_, err := w.Write(line)
		require.NoError(tb, err)
	}
	require.NoError(tb, w.Flush())
	return path
}

// psqlPath finds psql: on PATH, else beside the PostgreSQL server pgtest
// runs.
func psqlPath(tb testing.TB) string {
	tb.Helper()
	if path, err := exec.LookPath("psql"); err == nil {
		return path
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
	if len(matches) == 0 {
		tb.Skip("psql is not installed")
	}
	return matches[len(matches)-1]
}

// runPsql runs one psql command against the database at url.
func runPsql(tb testing.TB, psql, url, command string) {
	tb.Helper()
	out, err := exec.Command(psql, "--no-psqlrc", "--set", "ON_ERROR_STOP=1", "--quiet", "-d", url, "-c", command).CombinedOutput()
	require.NoError(tb, err, "psql: %s", out)
}
