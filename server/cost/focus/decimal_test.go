package focus_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/cost/focus"
)

// cost's FuzzParseMicrosAgreesWithFocus checks that parseMicros agrees with
// cost.ParseMicros; it lives there, as this package cannot import cost and
// cost's dependencies would slow this package's fuzzing down.
func TestParseMicrosReadsDecimalsExactlyAndRoundsPastSixDigitsHalfToEven(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0.072", 72_000},
		{"12", 12_000_000},
		{"+12", 12_000_000},
		{"-1.25", -1_250_000},
		{".5", 500_000},
		{"5.", 5_000_000},
		{"-0", 0},
		{"0.000001", 1},
		{"0.0000004999", 0},
		{"0.0000005", 0},   // a tie: to even
		{"0.0000015", 2},   // a tie: to even
		{"0.00000050", 0},  // still a tie
		{"0.00000051", 1},  // more than half
		{"-0.0000015", -2}, // symmetric around zero
		{"0.0000123456789", 12},
		{"0.9999995", 1_000_000},
		{"00012.5", 12_500_000},
		{"9223372036854.775807", math.MaxInt64},
		{"-9223372036854.775807", -math.MaxInt64},
	} {
		got, err := focus.ParseMicros(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"", ".", "-", "+", "-.", "1e3", "1,5", "12,5", " 1", "1 ", "1.2.3", "--1", "0x10", "NaN", "١"} {
		_, err := focus.ParseMicros(bad)
		require.ErrorContains(t, err, "not a decimal number", bad)
	}
	for _, big := range []string{"9223372036854.775808", "9223372036854.9999995", "9223372036855", "99999999999999999999999"} {
		_, err := focus.ParseMicros(big)
		require.ErrorContains(t, err, "out of range", big)
	}
}

func TestTagValueFindsTheMappingTag(t *testing.T) {
	const key = "app.kubernetes.io/name"
	for _, tc := range []struct{ in, want string }{
		{``, ""},
		{`{}`, ""},
		{` { } `, ""},
		{`{"app.kubernetes.io/name":"orders"}`, "orders"},
		{`{ "env" : "prod" , "app.kubernetes.io/name" : "orders" }`, "orders"},
		{`{"app.kubernetes.io/name":true}`, ""},
		{`{"app.kubernetes.io/name":null}`, ""},
		{`{"app.kubernetes.io/name":-1.5e3}`, ""},
		{`{"app.kubernetes.io/name":"or\u0064ers\n"}`, "orders\n"},
		{`{"app.kubernetes.io\/name":"orders"}`, "orders"},
		{`{"app.kubernetes.io/namespace":"orders"}`, ""},
		{`{"x":"\"app.kubernetes.io/name\""}`, ""},
	} {
		got, err := focus.TagValue(tc.in, key)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{`{`, `}`, `[]`, `"x"`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":"b"}x`,
		`{"a":{}}`, `{"a":[1]}`, `{"a":"\x"}`, `{"a":tru}`, "{\"a\":\"\x01\"}", `{a:1}`, `null`,
		`{"app.kubernetes.io/name":"a","app.kubernetes.io/name":"b"}`} {
		_, err := focus.TagValue(bad, key)
		require.Error(t, err, bad)
	}
}

// FuzzTagValueAgreesWithEncodingJSON: the scanner accepts a Tags value when
// encoding/json decodes it into an object of primitives, and finds the same
// value.
func FuzzTagValueAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"k":"v"}`, `{"k":true,"x":1.5e-3}`, `{"k":"\u00e9\ud83d\ude00"}`, `{"x":[1]}`, `{}`, ` {"k" : null } `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return // null Tags: not JSON
		}
		got, err := focus.TagValue(s, "k")
		var m map[string]any
		jsonErr := json.Unmarshal([]byte(s), &m)
		ok := jsonErr == nil && m != nil
		for _, v := range m {
			switch v.(type) {
			case map[string]any, []any:
				ok = false
			}
		}
		if err != nil && strings.Contains(err.Error(), "appears twice") {
			return // encoding/json keeps the last of duplicate keys
		}
		require.Equal(t, ok, err == nil, "%q: json %v, scanner %v", s, jsonErr, err)
		if ok && utf8.ValidString(got) { // encoding/json replaces bad UTF-8; Read refuses it
			want, _ := m["k"].(string)
			require.Equal(t, want, got, s)
		}
	})
}
