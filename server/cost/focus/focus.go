// Package focus reads FinOps FOCUS billing files (CSV) as a stream of
// store.BillingRow, checking every row as it goes.
//
// What it accepts:
//
//   - A header of FOCUS column names, case-sensitive, in any order, after an
//     optional UTF-8 byte order mark. The columns in [RequiredColumns] must be
//     present; every other column is ignored.
//   - Costs (BilledCost, EffectiveCost, ListCost) as plain decimals: an
//     optional sign, digits, an optional fraction ("12", "-0.5", ".25",
//     "0.0000123456"). They are kept in micro-units: more than six fraction
//     digits are rounded to the nearest micro-unit, halves to even.
//     Exponents ("1e-5"), thousands separators and decimal commas are
//     refused. BilledCost and EffectiveCost may be negative (credits,
//     refunds); ListCost only on Credit and Adjustment rows.
//   - Dates (ChargePeriodStart, ChargePeriodEnd) as RFC 3339 datetimes, with
//     or without a fraction of a second, in UTC ("2024-05-01T00:00:00Z") or
//     with an offset ("2024-05-01T02:00:00+02:00", converted to UTC); or
//     written with a space and no zone, read as UTC, as some exports do
//     ("2024-05-01 00:00:00", "2024-05-01 00:00:00.000", optionally followed
//     by " UTC"). A datetime without a zone after a "T" is refused: FOCUS
//     writes UTC, and a bare local time is ambiguous. ChargePeriodEnd must be
//     after ChargePeriodStart.
//   - ChargeCategory: Usage, Purchase, Tax, Credit or Adjustment.
//   - BillingCurrency: three capital letters, the same on every row, and
//     Options.Currency when it is set.
//   - Tags: empty (null), or a JSON object whose values are strings,
//     numbers, true, false or null (FOCUS's KeyValueFormat; objects and
//     arrays are refused). The mapping tag's value, when it is a string,
//     names the row's service; otherwise the row is kept unmapped.
//   - Text fields kept in the row must be valid UTF-8 without NUL bytes, so
//     that every database can store them, and at most MaxTextBytes long
//     (MaxResourceIDBytes for ResourceId), so that every index can hold
//     them.
//   - A record (the header or a row, with every column, ignored ones too;
//     a quoted field's newlines do not end it) is at most MaxRecordBytes:
//     Read holds one record at a time, so that its memory stays flat
//     whatever the file.
package focus

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairn-dev/cairn/store"
)

// DefaultMappingTag is the tag read when Options.MappingTag is empty.
const DefaultMappingTag = "app.kubernetes.io/name"

// Options tune Read.
type Options struct {
	// MappingTag is the tag whose value names the Cairn service of a row
	// (default "app.kubernetes.io/name").
	MappingTag string
	// Currency, when set, is the only BillingCurrency Read accepts.
	Currency string
}

// Bounds of a file's records and of the text Read keeps.
const (
	// MaxRecordBytes bounds a record, all its columns together.
	MaxRecordBytes = 1 << 20
	// MaxResourceIDBytes bounds ResourceId: cloud resource ids run to some
	// hundreds of bytes (Azure's longest).
	MaxResourceIDBytes = 1024
	// MaxTextBytes bounds ServiceName, ServiceCategory and the mapping
	// tag's value.
	MaxTextBytes = 256
)

// RowError is the first problem found in a file.
type RowError struct {
	Row    int    // 1-based line number in the file where the row starts; the header is line 1
	Column string // the FOCUS column at fault; "" when the row as a whole is
	Err    error
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %v", e.Row, e.Err)
	}
	return fmt.Sprintf("row %d, %s: %v", e.Row, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// FOCUS column names Read uses.
const (
	colBilledCost        = "BilledCost"
	colEffectiveCost     = "EffectiveCost"
	colListCost          = "ListCost"
	colBillingCurrency   = "BillingCurrency"
	colChargePeriodStart = "ChargePeriodStart"
	colChargePeriodEnd   = "ChargePeriodEnd"
	colChargeCategory    = "ChargeCategory"
	colResourceID        = "ResourceId"
	colServiceName       = "ServiceName"
	colServiceCategory   = "ServiceCategory"
	colTags              = "Tags"
)

// RequiredColumns are the columns a file must have, in the order Read
// reports them missing.
var RequiredColumns = []string{
	colBilledCost, colEffectiveCost, colListCost, colBillingCurrency,
	colChargePeriodStart, colChargePeriodEnd, colChargeCategory,
	colResourceID, colServiceName, colServiceCategory, colTags,
}

// Indexes into reader.idx, in RequiredColumns order.
const (
	iBilledCost = iota
	iEffectiveCost
	iListCost
	iBillingCurrency
	iChargePeriodStart
	iChargePeriodEnd
	iChargeCategory
	iResourceID
	iServiceName
	iServiceCategory
	iTags
	nRequired
)

// ChargeCategory values FOCUS defines.
const (
	Usage      = "Usage"
	Purchase   = "Purchase"
	Tax        = "Tax"
	Credit     = "Credit"
	Adjustment = "Adjustment"
)

// Read returns the rows of a FOCUS CSV file one at a time, reading r as it
// goes (never the whole file into memory). It stops at the first problem,
// which it yields as a *RowError with a zero BillingRow. The sequence reads r, so
// it can be ranged over once.
func Read(r io.Reader, opts Options) iter.Seq2[store.BillingRow, error] {
	return func(yield func(store.BillingRow, error) bool) {
		rd, err := newReader(r, opts)
		if err != nil {
			yield(store.BillingRow{}, err)
			return
		}
		for {
			row, err := rd.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(store.BillingRow{}, err)
				return
			}
			if !yield(row, nil) {
				return
			}
		}
	}
}

type reader struct {
	csv      *csv.Reader
	idx      [nRequired]int
	tagKey   string
	want     string // Options.Currency
	currency string // of the first row
	line     int    // where the last row read starts
	interned map[string]string
}

// internLimit bounds the strings kept for reuse: provider service names,
// categories, Cairn services and resource IDs repeat across a file's days.
const internLimit = 1 << 14

func newReader(r io.Reader, opts Options) (*reader, error) {
	br := bufio.NewReaderSize(&recordLimiter{r: r, limit: MaxRecordBytes, start: 1}, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3) //nolint:errcheck // the bytes are buffered
	}
	c := csv.NewReader(br)
	c.ReuseRecord = true
	c.LazyQuotes = false
	c.FieldsPerRecord = 0 // set from the header
	header, err := c.Read()
	if err == io.EOF {
		return nil, &RowError{Row: 1, Err: errors.New("empty file: want a header of FOCUS columns")}
	}
	if err != nil {
		return nil, csvError(err, 1)
	}
	rd := &reader{
		csv:      c,
		line:     1,
		tagKey:   cmp.Or(opts.MappingTag, DefaultMappingTag),
		want:     opts.Currency,
		interned: make(map[string]string),
	}
	for i := range rd.idx {
		rd.idx[i] = -1
	}
	for i, name := range header {
		for j, req := range RequiredColumns {
			if name != req {
				continue
			}
			if rd.idx[j] >= 0 {
				return nil, &RowError{Row: 1, Column: name, Err: errors.New("column appears twice in the header")}
			}
			rd.idx[j] = i
		}
	}
	var missing []string
	for j, i := range rd.idx {
		if i < 0 {
			missing = append(missing, RequiredColumns[j])
		}
	}
	if len(missing) > 0 {
		return nil, &RowError{Row: 1, Err: fmt.Errorf("missing required FOCUS columns: %s", strings.Join(missing, ", "))}
	}
	return rd, nil
}

// csvError turns a csv.Reader error into a RowError.
func csvError(err error, fallbackRow int) error {
	if rowErr, ok := errors.AsType[*RowError](err); ok {
		return rowErr // the recordLimiter's
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		row := pe.StartLine
		if row == 0 {
			row = fallbackRow
		}
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return &RowError{Row: row, Err: fmt.Errorf("wrong number of fields: want as many as the header")}
		}
		return &RowError{Row: row, Err: fmt.Errorf("malformed CSV (line %d, column %d): %w", pe.Line, pe.Column, pe.Err)}
	}
	return &RowError{Row: fallbackRow, Err: fmt.Errorf("reading the file: %w", err)}
}

func (rd *reader) next() (store.BillingRow, error) {
	rec, err := rd.csv.Read()
	if err == io.EOF {
		return store.BillingRow{}, io.EOF
	}
	if err != nil {
		// No record: FieldPos would panic. A csv.ParseError knows its
		// line; a read error is reported after the last row read.
		return store.BillingRow{}, csvError(err, rd.line+1)
	}
	line, _ := rd.csv.FieldPos(0)
	rd.line = line
	fail := func(col string, err error) (store.BillingRow, error) {
		return store.BillingRow{}, &RowError{Row: line, Column: col, Err: err}
	}
	field := func(i int) string { return rec[rd.idx[i]] }

	var row store.BillingRow

	// Category first: it decides whether a negative ListCost is allowed.
	switch c := field(iChargeCategory); c {
	case Usage:
		row.ChargeCategory = Usage
	case Purchase:
		row.ChargeCategory = Purchase
	case Tax:
		row.ChargeCategory = Tax
	case Credit:
		row.ChargeCategory = Credit
	case Adjustment:
		row.ChargeCategory = Adjustment
	default:
		return fail(colChargeCategory, fmt.Errorf("unknown charge category %q: want Usage, Purchase, Tax, Credit or Adjustment", c))
	}

	if row.BilledCost, err = parseMicros(field(iBilledCost)); err != nil {
		return fail(colBilledCost, err)
	}
	if row.EffectiveCost, err = parseMicros(field(iEffectiveCost)); err != nil {
		return fail(colEffectiveCost, err)
	}
	if row.ListCost, err = parseMicros(field(iListCost)); err != nil {
		return fail(colListCost, err)
	}
	if row.ListCost < 0 && row.ChargeCategory != Credit && row.ChargeCategory != Adjustment {
		return fail(colListCost, fmt.Errorf("negative quantity where not allowed: %s rows cannot have a negative list cost", row.ChargeCategory))
	}

	cur := field(iBillingCurrency)
	switch {
	case cur == rd.currency && cur != "":
		row.Currency = rd.currency
	case !isCurrency(cur):
		return fail(colBillingCurrency, fmt.Errorf("currency %q: want an ISO 4217 code of three capital letters, such as USD", cur))
	case rd.want != "" && cur != rd.want:
		return fail(colBillingCurrency, fmt.Errorf("currency %s: billing is kept in %s alone, so that amounts of two currencies are never added together; import files in %s", cur, rd.want, rd.want))
	case rd.currency == "":
		rd.currency = strings.Clone(cur)
		row.Currency = rd.currency
	default:
		return fail(colBillingCurrency, fmt.Errorf("unknown currency mix: %q, where earlier rows are in %q; import one currency per file", cur, rd.currency))
	}

	if row.ChargePeriodStart, err = parseTime(field(iChargePeriodStart)); err != nil {
		return fail(colChargePeriodStart, err)
	}
	if row.ChargePeriodEnd, err = parseTime(field(iChargePeriodEnd)); err != nil {
		return fail(colChargePeriodEnd, err)
	}
	if !row.ChargePeriodEnd.After(row.ChargePeriodStart) {
		return fail(colChargePeriodEnd, fmt.Errorf("the charge period ends (%s) no later than it starts (%s)",
			row.ChargePeriodEnd.Format(time.RFC3339Nano), row.ChargePeriodStart.Format(time.RFC3339Nano)))
	}

	if row.ResourceID, err = rd.text(field(iResourceID), MaxResourceIDBytes); err != nil {
		return fail(colResourceID, err)
	}
	if row.ServiceName, err = rd.text(field(iServiceName), MaxTextBytes); err != nil {
		return fail(colServiceName, err)
	}
	if row.ServiceCategory, err = rd.text(field(iServiceCategory), MaxTextBytes); err != nil {
		return fail(colServiceCategory, err)
	}
	svc, err := tagValue(field(iTags), rd.tagKey)
	if err != nil {
		return fail(colTags, err)
	}
	if err := checkText(svc, MaxTextBytes); err != nil {
		return fail(colTags, fmt.Errorf("tag %q: %w", rd.tagKey, err))
	}
	row.Service = rd.intern(svc)
	return row, nil
}

// text checks and interns a text field of at most limit bytes.
func (rd *reader) text(s string, limit int) (string, error) {
	if err := checkText(s, limit); err != nil {
		return "", err
	}
	return rd.intern(s), nil
}

// intern returns a copy of s that does not hold on to the CSV line it was
// cut from, shared with earlier rows when it repeats.
func (rd *reader) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := rd.interned[s]; ok {
		return v
	}
	v := strings.Clone(s)
	if len(rd.interned) < internLimit {
		rd.interned[v] = v
	}
	return v
}

func isCurrency(s string) bool {
	return len(s) == 3 && isUpper(s[0]) && isUpper(s[1]) && isUpper(s[2])
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func checkText(s string, limit int) error {
	if len(s) > limit {
		return fmt.Errorf("%d bytes long: want at most %d", len(s), limit)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8: %q", s)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("contains a NUL byte: %q", s)
	}
	return nil
}

// parseTime reads a FOCUS datetime; see the package documentation.
func parseTime(s string) (time.Time, error) {
	if len(s) > 10 {
		switch s[10] {
		case 'T':
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t.UTC(), nil
			}
		case ' ':
			v, _ := strings.CutSuffix(s, " UTC")
			if t, err := time.Parse(time.DateTime, v); err == nil {
				return t, nil // no zone: UTC
			}
		}
	}
	return time.Time{}, fmt.Errorf("not a datetime: %q: want RFC 3339 in UTC, such as 2024-05-01T00:00:00Z", s)
}

// recordLimiter passes a CSV file through, failing once a record is longer
// than limit bytes: csv.Reader holds a record whole, however long. It
// finds records as csv.Reader does, by newlines outside quotes: in a valid
// file every quote opens or closes a quoted field or is half of an
// escaped pair, so their parity tells whether a newline is quoted.
type recordLimiter struct {
	r      io.Reader
	limit  int
	n      int  // bytes of the current record read so far
	quoted bool // inside a quoted field
	lines  int  // newlines read so far
	start  int  // the line the current record starts on
	err    error
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if l.n++; l.n > l.limit {
			l.err = &RowError{Row: l.start, Err: fmt.Errorf("record longer than %d bytes: the file is refused, so that memory stays bounded", l.limit)}
			return i, l.err
		}
		switch c {
		case '"':
			l.quoted = !l.quoted
		case '\n':
			l.lines++
			if !l.quoted {
				l.n, l.start = 0, l.lines+1
			}
		}
	}
	return n, err
}
