package focus_test

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/cost/focus"
	"github.com/cairn-dev/cairn/store"
)

const header = "BillingAccountId,BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ServiceName,ServiceCategory,Region,Tags\n"

// goodFile has two months, three services, unmapped rows and a credit.
const goodFile = header +
	`acct-1,10.5,9.45,12,USD,2024-04-01T00:00:00Z,2024-04-02T00:00:00Z,Usage,db-orders,Amazon RDS,Databases,eu-west-1,"{""app.kubernetes.io/name"":""orders"",""env"":""prod""}"` + "\n" +
	`acct-1,0.0230000049,0.023,0.023,USD,2024-04-01T00:00:00Z,2024-04-02T00:00:00Z,Usage,bucket-payments,Amazon S3,Storage,eu-west-1,"{""team"":""pay"",""app.kubernetes.io/name"":""payments""}"` + "\n" +
	`acct-1,3,3,3,USD,2024-04-30T00:00:00Z,2024-05-01T00:00:00Z,Usage,i-123,Amazon EC2,Compute,eu-west-1,"{""env"":""prod""}"` + "\n" +
	`acct-1,-5,-5,0,USD,2024-04-01T00:00:00Z,2024-05-01T00:00:00Z,Credit,,AWS Credits,Other,,{}` + "\n" +
	`acct-1,7.25,7.25,8,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,search-1,Amazon OpenSearch Service,Analytics,eu-west-1,"{""app.kubernetes.io/name"":""search"",""backup"":true,""n"":3}"` + "\n" +
	`acct-1,1.2,1.2,1.2,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Tax,,Tax,Other,,` + "\n" +
	`acct-1,2,2,2,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,db-orders,Amazon RDS,Databases,eu-west-1,"{""app.kubernetes.io/name"":""orders""}"` + "\n"

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func readAll(t testing.TB, file string, opts focus.Options) ([]store.BillingRow, error) {
	t.Helper()
	var rows []store.BillingRow
	for row, err := range focus.Read(strings.NewReader(file), opts) {
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func TestReadGoodFileYieldsEveryRowWithServicesCostsAndPeriods(t *testing.T) {
	rows, err := readAll(t, goodFile, focus.Options{})
	require.NoError(t, err)
	require.Equal(t, []store.BillingRow{
		{ChargePeriodStart: day(2024, 4, 1), ChargePeriodEnd: day(2024, 4, 2), ChargeCategory: "Usage", Service: "orders", ResourceID: "db-orders", ServiceName: "Amazon RDS", ServiceCategory: "Databases", Currency: "USD", BilledCost: 10_500_000, EffectiveCost: 9_450_000, ListCost: 12_000_000},
		{ChargePeriodStart: day(2024, 4, 1), ChargePeriodEnd: day(2024, 4, 2), ChargeCategory: "Usage", Service: "payments", ResourceID: "bucket-payments", ServiceName: "Amazon S3", ServiceCategory: "Storage", Currency: "USD", BilledCost: 23_000, EffectiveCost: 23_000, ListCost: 23_000},
		{ChargePeriodStart: day(2024, 4, 30), ChargePeriodEnd: day(2024, 5, 1), ChargeCategory: "Usage", Service: "", ResourceID: "i-123", ServiceName: "Amazon EC2", ServiceCategory: "Compute", Currency: "USD", BilledCost: 3_000_000, EffectiveCost: 3_000_000, ListCost: 3_000_000},
		{ChargePeriodStart: day(2024, 4, 1), ChargePeriodEnd: day(2024, 5, 1), ChargeCategory: "Credit", Service: "", ResourceID: "", ServiceName: "AWS Credits", ServiceCategory: "Other", Currency: "USD", BilledCost: -5_000_000, EffectiveCost: -5_000_000, ListCost: 0},
		{ChargePeriodStart: day(2024, 5, 1), ChargePeriodEnd: day(2024, 5, 2), ChargeCategory: "Usage", Service: "search", ResourceID: "search-1", ServiceName: "Amazon OpenSearch Service", ServiceCategory: "Analytics", Currency: "USD", BilledCost: 7_250_000, EffectiveCost: 7_250_000, ListCost: 8_000_000},
		{ChargePeriodStart: day(2024, 5, 1), ChargePeriodEnd: day(2024, 5, 2), ChargeCategory: "Tax", Service: "", ResourceID: "", ServiceName: "Tax", ServiceCategory: "Other", Currency: "USD", BilledCost: 1_200_000, EffectiveCost: 1_200_000, ListCost: 1_200_000},
		{ChargePeriodStart: day(2024, 5, 1), ChargePeriodEnd: day(2024, 5, 2), ChargeCategory: "Usage", Service: "orders", ResourceID: "db-orders", ServiceName: "Amazon RDS", ServiceCategory: "Databases", Currency: "USD", BilledCost: 2_000_000, EffectiveCost: 2_000_000, ListCost: 2_000_000},
	}, rows)
}

func TestReadMapsByTheConfiguredTag(t *testing.T) {
	rows, err := readAll(t, goodFile, focus.Options{MappingTag: "team"})
	require.NoError(t, err)
	require.Equal(t, "", rows[0].Service)
	require.Equal(t, "pay", rows[1].Service)
}

func TestReadToleratesAByteOrderMark(t *testing.T) {
	rows, err := readAll(t, "\uFEFF"+goodFile, focus.Options{})
	require.NoError(t, err)
	require.Len(t, rows, 7)
	require.Equal(t, int64(10_500_000), rows[0].BilledCost)
}

func TestReadAcceptsColumnsInAnyOrder(t *testing.T) {
	want, err := readAll(t, goodFile, focus.Options{})
	require.NoError(t, err)
	// Reverse the columns of every line.
	records := parseCSV(t, goodFile)
	var b strings.Builder
	for _, rec := range records {
		for i := range rec {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + strings.ReplaceAll(rec[len(rec)-1-i], `"`, `""`) + `"`)
		}
		b.WriteByte('\n')
	}
	got, err := readAll(t, b.String(), focus.Options{})
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestReadAcceptsTheDatetimesExportsWrite(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2024-05-01T00:00:00Z", day(2024, 5, 1)},
		{"2024-05-01T00:00:00.000Z", day(2024, 5, 1)},
		{"2024-05-01T02:00:00+02:00", day(2024, 5, 1)},
		{"2024-05-01 00:00:00", day(2024, 5, 1)},
		{"2024-05-01 00:00:00.000", day(2024, 5, 1)},
		{"2024-05-01 00:00:00 UTC", day(2024, 5, 1)},
	} {
		file := header + "a,1,1,1,USD," + tc.in + ",2024-06-01T00:00:00Z,Usage,r,S,Compute,,\n"
		rows, err := readAll(t, file, focus.Options{})
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, rows[0].ChargePeriodStart, tc.in)
		require.Equal(t, time.UTC, rows[0].ChargePeriodStart.Location(), tc.in)
	}
}

func TestReadRefusesTheFirstBadRowWithItsLineAndColumn(t *testing.T) {
	const ok = "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n"
	for _, tc := range []struct {
		name    string
		file    string
		row     int
		column  string
		message string
	}{
		{"bad date", header + ok + "a,1,1,1,USD,2024-05-01,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			3, "ChargePeriodStart", `row 3, ChargePeriodStart: not a datetime: "2024-05-01"`},
		{"zone-less T datetime", header + "a,1,1,1,USD,2024-05-01T00:00:00,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			2, "ChargePeriodStart", "not a datetime"},
		{"end before start", header + ok + ok + "a,1,1,1,USD,2024-05-02T00:00:00Z,2024-05-01T00:00:00Z,Usage,r,S,Compute,,\n",
			4, "ChargePeriodEnd", "no later than it starts"},
		{"end equal to start", header + "a,1,1,1,USD,2024-05-02T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			2, "ChargePeriodEnd", "no later than it starts"},
		{"negative list cost on usage", header + ok + "a,-1,-1,-1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			3, "ListCost", "negative quantity where not allowed"},
		{"currency mix", header + ok + ok + "a,1,1,1,EUR,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			4, "BillingCurrency", `unknown currency mix: "EUR"`},
		{"empty currency on the first row", header + "a,1,1,1,,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			2, "BillingCurrency", `currency ""`},
		{"lower-case currency", header + "a,1,1,1,usd,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			2, "BillingCurrency", `currency "usd"`},
		{"missing columns", "BilledCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ServiceName,ServiceCategory\n" + ok,
			1, "", "row 1: missing required FOCUS columns: EffectiveCost, Tags"},
		{"column twice", strings.TrimSuffix(header, "\n") + ",Tags\n",
			1, "Tags", "twice"},
		{"empty file", "", 1, "", "empty file"},
		{"wrong field count", header + ok + "a,1,1,1,USD\n",
			3, "", "row 3: wrong number of fields"},
		{"bad JSON tags", header + ok + ok + `a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,"{""app.kubernetes.io/name"":orders}"` + "\n",
			4, "Tags", "malformed JSON"},
		{"tags an array", header + `a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,"[""x""]"` + "\n",
			2, "Tags", "not a JSON object"},
		{"tag value an object", header + `a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,"{""x"":{}}"` + "\n",
			2, "Tags", "object or array"},
		{"unknown charge category", header + ok + "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,usage,r,S,Compute,,\n",
			3, "ChargeCategory", `unknown charge category "usage"`},
		{"decimal comma", header + "a,\"12,5\",1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			2, "BilledCost", `row 2, BilledCost: not a decimal number: "12,5"`},
		{"empty cost", header + "a,1,,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			2, "EffectiveCost", `not a decimal number: ""`},
		{"exponent", header + "a,1,1,1e3,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			2, "ListCost", `not a decimal number: "1e3"`},
		{"invalid UTF-8", header + "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r\xff,S,Compute,,\n",
			2, "ResourceId", "UTF-8"},
		{"bare quote", header + "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r\"x,S,Compute,,\n",
			2, "", "malformed CSV"},
		{"unterminated quote", header + ok + "\"", 3, "", "row 3: malformed CSV"},
		{"resource id too long", header + ok + "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage," + strings.Repeat("r", focus.MaxResourceIDBytes+1) + ",S,Compute,,\n",
			3, "ResourceId", "1025 bytes long: want at most 1024"},
		{"service name too long", header + "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r," + strings.Repeat("S", focus.MaxTextBytes+1) + ",Compute,,\n",
			2, "ServiceName", "257 bytes long"},
		{"service tag too long", header + `a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,"{""app.kubernetes.io/name"":""` + strings.Repeat("o", focus.MaxTextBytes+1) + `""}"` + "\n",
			2, "Tags", "257 bytes long"},
		{"record too long", header + ok + "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute," + strings.Repeat("x", focus.MaxRecordBytes) + ",\n",
			3, "", "row 3: record longer than 1048576 bytes"},
		{"quoted record too long", header + ok + "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,\"" + strings.Repeat("x\n", focus.MaxRecordBytes/2) + "\",\n",
			3, "", "row 3: record longer than 1048576 bytes"},
		{"row after a quoted multi-line field", header + "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,\"r\nr\",S,Compute,,\n" +
			"a,x,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n",
			4, "BilledCost", "row 4, BilledCost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := readAll(t, tc.file, focus.Options{})
			var rowErr *focus.RowError
			require.ErrorAs(t, err, &rowErr)
			require.Equal(t, tc.row, rowErr.Row)
			require.Equal(t, tc.column, rowErr.Column)
			require.Contains(t, err.Error(), tc.message)
			before := max(tc.row-2, 0)
			if strings.Contains(tc.name, "multi-line") {
				before-- // its first row spans two lines
			}
			require.Len(t, rows, before, "the rows before the bad one")
		})
	}
}

func TestReadStopsWhenTheLoopBreaks(t *testing.T) {
	n := 0
	for range focus.Read(strings.NewReader(goodFile), focus.Options{}) {
		n++
		break
	}
	require.Equal(t, 1, n)
}

func TestReadNeverYieldsAfterAnError(t *testing.T) {
	file := header + "a,x,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n" +
		"a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n"
	var errs int
	for _, err := range focus.Read(strings.NewReader(file), focus.Options{}) {
		require.Error(t, err)
		errs++
	}
	require.Equal(t, 1, errs)
}

func TestRowErrorFormatsRowAndColumn(t *testing.T) {
	err := &focus.RowError{Row: 17, Column: "BilledCost", Err: errors.New(`not a decimal number: "12,5"`)}
	require.Equal(t, `row 17, BilledCost: not a decimal number: "12,5"`, err.Error())
	require.Equal(t, "row 1: boom", (&focus.RowError{Row: 1, Err: errors.New("boom")}).Error())
}

// checkRow holds every row Read yields to what Read promises. It does
// without testify, which would slow the fuzzer down.
func checkRow(t testing.TB, row store.BillingRow, currency string) {
	t.Helper()
	c := row.Currency
	if len(c) != 3 || !isUpper(c[0]) || !isUpper(c[1]) || !isUpper(c[2]) {
		t.Fatalf("currency %q", c)
	}
	if currency != "" && c != currency {
		t.Fatalf("currency %q after %q", c, currency)
	}
	if !row.ChargePeriodEnd.After(row.ChargePeriodStart) {
		t.Fatalf("end %v not after start %v", row.ChargePeriodEnd, row.ChargePeriodStart)
	}
	if row.ChargePeriodStart.Location() != time.UTC || row.ChargePeriodEnd.Location() != time.UTC {
		t.Fatalf("not UTC: %v, %v", row.ChargePeriodStart, row.ChargePeriodEnd)
	}
	switch row.ChargeCategory {
	case "Usage", "Purchase", "Tax":
		if row.ListCost < 0 {
			t.Fatalf("negative list cost %d on %s", row.ListCost, row.ChargeCategory)
		}
	case "Credit", "Adjustment":
	default:
		t.Fatalf("charge category %q", row.ChargeCategory)
	}
	for _, s := range []string{row.Service, row.ResourceID, row.ServiceName, row.ServiceCategory} {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("bad text %q", s)
		}
	}
	if len(row.ResourceID) > focus.MaxResourceIDBytes || len(row.Service) > focus.MaxTextBytes ||
		len(row.ServiceName) > focus.MaxTextBytes || len(row.ServiceCategory) > focus.MaxTextBytes {
		t.Fatalf("text past its bound: %+v", row)
	}
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func FuzzRead(f *testing.F) {
	f.Add([]byte(goodFile))
	f.Add([]byte("\uFEFF" + goodFile))
	f.Add([]byte(strings.ReplaceAll(goodFile, "USD", "usd")))
	f.Add([]byte(strings.ReplaceAll(goodFile, "2024-05-02", "2024-04-30")))
	f.Add([]byte(strings.ReplaceAll(goodFile, "Credit", "Usage")))
	f.Add([]byte(strings.Replace(goodFile, "12,USD", "-12,USD", 1)))
	f.Add([]byte(strings.Replace(goodFile, `""orders""`, `""or\u0064ers""`, 1)))
	f.Add([]byte(strings.ReplaceAll(goodFile, "T00:00:00Z", " 00:00:00")))
	f.Add([]byte(strings.Replace(goodFile, "10.5", "1e1", 1)))
	f.Add([]byte(strings.Replace(goodFile, ",Region", "", 1)))
	f.Add([]byte(strings.Replace(goodFile, "{}", "{", 1)))
	f.Add([]byte(goodFile + "acct-1,1,1,1,EUR,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n"))
	// Quoted fields over several lines, one with escaped quotes, and a
	// resource id past its bound.
	f.Add([]byte(goodFile + "acct-1,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,\"r\n\"\"x\"\"\n\",S,Compute,\"\n\",\n" +
		"acct-1,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage," + strings.Repeat("r", focus.MaxResourceIDBytes+1) + ",S,Compute,,\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		currency := ""
		done := false
		for row, err := range focus.Read(strings.NewReader(string(file)), focus.Options{}) {
			if done {
				t.Fatal("a row after an error")
			}
			if err != nil {
				var rowErr *focus.RowError
				if !errors.As(err, &rowErr) || rowErr.Row < 1 {
					t.Fatalf("error %v: want a *RowError with a row", err)
				}
				done = true
				continue
			}
			checkRow(t, row, currency)
			currency = row.Currency
		}
	})
}

func parseCSV(t testing.TB, file string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(file)).ReadAll()
	require.NoError(t, err)
	return recs
}

func TestReadReportsAFailingReaderAfterTheLastRow(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(goodFile), iotest.ErrReader(boom))
	rows, err := 0, error(nil)
	for _, e := range focus.Read(r, focus.Options{}) {
		if e != nil {
			err = e
			break
		}
		rows++
	}
	require.ErrorIs(t, err, boom)
	require.Equal(t, 7, rows)
	var rowErr *focus.RowError
	require.ErrorAs(t, err, &rowErr)
	require.Equal(t, 9, rowErr.Row)
}

func TestReadHoldsTheFileToTheConfiguredCurrency(t *testing.T) {
	rows, err := readAll(t, goodFile, focus.Options{Currency: "USD"})
	require.NoError(t, err)
	require.Len(t, rows, 7)

	_, err = readAll(t, goodFile, focus.Options{Currency: "EUR"})
	var rowErr *focus.RowError
	require.ErrorAs(t, err, &rowErr)
	require.Equal(t, 2, rowErr.Row)
	require.Equal(t, "BillingCurrency", rowErr.Column)
	require.ErrorContains(t, err, "currency USD: billing is kept in EUR alone")
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// repeat is an endless stream of b, made as it is read.
type repeat byte

func (b repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestReadRefusesAHugeRecordAfterReadingAtMostTheBound(t *testing.T) {
	const fileBytes = 200 << 20
	rows := header + "a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,,\n"
	for _, tc := range []struct {
		name   string
		before string // the records before the huge one
		huge   io.Reader
		row    int
	}{
		{"one field of 200 MB", "", io.LimitReader(repeat('x'), fileBytes), 1},
		{"a row whose quoted field runs 200 MB over many lines", rows,
			io.MultiReader(strings.NewReader(`a,1,1,1,USD,2024-05-01T00:00:00Z,2024-05-02T00:00:00Z,Usage,r,S,Compute,"`),
				io.LimitReader(repeat('\n'), fileBytes)), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			counted := &countingReader{r: io.MultiReader(strings.NewReader(tc.before), tc.huge)}
			var rowErr *focus.RowError
			for _, err := range focus.Read(counted, focus.Options{}) {
				if err != nil {
					require.ErrorAs(t, err, &rowErr)
				}
			}
			require.NotNil(t, rowErr, "the file was not refused")
			require.Equal(t, tc.row, rowErr.Row)
			require.ErrorContains(t, rowErr, "record longer than 1048576 bytes")
			// The bound, and what one read of Read's 64 KiB buffer takes.
			mostRead := int64(len(tc.before) + focus.MaxRecordBytes + 64<<10)
			require.LessOrEqual(t, counted.n, mostRead, "bytes read before refusing the file")
		})
	}
}
