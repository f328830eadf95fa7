package store

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxAuditFieldBytes bounds each string of a stored audit event. Targets,
// request ids and principals come from callers, some of them not
// authenticated: unbounded, one call could write a megabyte row, and on
// PostgreSQL a row too large for its index would not be written at all.
const MaxAuditFieldBytes = 256

// MaxAuditDetailBytes bounds an audit event's Detail, which Cairn writes
// and which may quote what the caller sent.
const MaxAuditDetailBytes = 1024

// Bounded returns e as every engine stores it: each string with control
// and other unprintable characters, invalid UTF-8 and backslashes escaped
// as in a Go string literal (so that a newline cannot forge a line in a
// log or a terminal, and the escaping can be undone), and cut to
// MaxAuditFieldBytes (the detail to MaxAuditDetailBytes), a cut string
// ending with `…[truncated from N bytes]`. Strings already printable and
// short are kept as they are.
func (e AuditEvent) Bounded() AuditEvent {
	for _, s := range []*string{&e.Principal, &e.Action, &e.Target, &e.RequestID, &e.Outcome, &e.Code} {
		*s = boundAuditString(*s, MaxAuditFieldBytes)
	}
	e.Detail = boundAuditString(e.Detail, MaxAuditDetailBytes)
	return e
}

func boundAuditString(s string, limit int) string {
	if len(s) <= limit && isPlain(s) {
		return s
	}
	mark := fmt.Sprintf("…[truncated from %d bytes]", len(s))
	var b strings.Builder
	cut := 0 // the length of b at the last piece that leaves room for mark
	for i, w := 0, 0; i < len(s); i += w {
		var r rune
		r, w = utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && w == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\\':
			piece = `\\`
		case unicode.IsPrint(r):
			piece = s[i : i+w]
		default:
			q := strconv.QuoteRuneToASCII(r)
			piece = q[1 : len(q)-1]
		}
		if b.Len()+len(piece) > limit {
			return b.String()[:cut] + mark
		}
		b.WriteString(piece)
		if b.Len()+len(mark) <= limit {
			cut = b.Len()
		}
	}
	return b.String()
}

// isPlain reports whether s needs no escaping.
func isPlain(s string) bool {
	for _, r := range s {
		if r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
