package store

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestBoundedAuditStrings(t *testing.T) {
	long := "services/" + strings.Repeat("x", 1<<20)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"a plain name stays", "services/orders-service", "services/orders-service"},
		{"unicode that prints stays", "ünïcödé ✓", "ünïcödé ✓"},
		{"a newline cannot start a line", "services/a\nforged line", `services/a\nforged line`},
		{"terminal escapes are escaped", "user:default/\x1b[31mred", `user:default/\x1b[31mred`},
		{"invalid UTF-8 is shown as bytes", "req-\xff\xfe", `req-\xff\xfe`},
		{"a backslash is escaped, so escapes are unambiguous", `a\nb`, `a\\nb`},
		{"bidirectional overrides are escaped", "services/a\u202eb", `services/a\u202eb`},
		{"a string of exactly the limit stays", strings.Repeat("y", MaxAuditFieldBytes), strings.Repeat("y", MaxAuditFieldBytes)},
		{"a long string is cut and marked", long, long[:MaxAuditFieldBytes-len("…[truncated from 1048585 bytes]")] + "…[truncated from 1048585 bytes]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AuditEvent{Target: tc.in}.Bounded().Target
			require.Equal(t, tc.want, got)
			require.LessOrEqual(t, len(got), MaxAuditFieldBytes)
			require.True(t, utf8.ValidString(got))
		})
	}
}

func TestBoundedNeverCutsAnEscapeOrARune(t *testing.T) {
	for _, in := range []string{strings.Repeat("\n", 1000), strings.Repeat("é", 1000), strings.Repeat("\u202e", 1000), strings.Repeat("\xff", 1000)} {
		got := AuditEvent{RequestID: in}.Bounded().RequestID
		require.LessOrEqual(t, len(got), MaxAuditFieldBytes)
		require.True(t, utf8.ValidString(got))
		body, mark, ok := strings.Cut(got, "…[truncated from ")
		require.True(t, ok, got)
		require.Equal(t, strconv.Itoa(len(in))+" bytes]", mark)
		require.False(t, strings.HasSuffix(body, `\`), "no escape cut in half: %q", body)
	}
}

func TestBoundedBoundsEveryString(t *testing.T) {
	long := strings.Repeat("z\n", 1000)
	e := AuditEvent{Principal: long, Action: long, Target: long, RequestID: long, Outcome: long, Code: long}.Bounded()
	for _, s := range []string{e.Principal, e.Action, e.Target, e.RequestID, e.Outcome, e.Code} {
		require.LessOrEqual(t, len(s), MaxAuditFieldBytes)
		require.NotContains(t, s, "\n")
	}
}
