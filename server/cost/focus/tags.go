package focus

import (
	"encoding/json"
	"errors"
	"fmt"
)

// tagValue checks that s is a FOCUS Tags value — empty (null) or a JSON
// object of strings, numbers, booleans and nulls — and returns the string
// value of key in it: "" when the key is absent or its value is not a string
// (FOCUS writes true for a tag without a value).
//
// It scans s once and allocates only for keys or values with escapes,
// instead of decoding every row's tags into a map (most rows carry the
// mapping tag, so a quick strings.Contains would not spare the decoding);
// encoding/json decodes the rare escaped string. A fuzz test checks that it
// agrees with encoding/json.
func tagValue(s, key string) (string, error) {
	if s == "" {
		return "", nil
	}
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '{' {
		return "", errTagsNotObject
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		if skipSpace(s, i+1) != len(s) {
			return "", errTagsNotObject
		}
		return "", nil
	}
	var value string
	found := false
	for {
		// "key"
		k, kEsc, j, err := scanString(s, i)
		if err != nil {
			return "", err
		}
		i = skipSpace(s, j)
		if i == len(s) || s[i] != ':' {
			return "", errTagsSyntax
		}
		i = skipSpace(s, i+1)
		if i == len(s) {
			return "", errTagsSyntax
		}
		// the value
		var v string
		var vEsc, isString bool
		switch c := s[i]; {
		case c == '"':
			v, vEsc, j, err = scanString(s, i)
			if err != nil {
				return "", err
			}
			isString = true
		case c == 't':
			j, err = scanWord(s, i, "true")
		case c == 'f':
			j, err = scanWord(s, i, "false")
		case c == 'n':
			j, err = scanWord(s, i, "null")
		case c == '-' || isDigit(c):
			j, err = scanNumber(s, i)
		case c == '{' || c == '[':
			return "", fmt.Errorf("tag %q: the value is an object or array; FOCUS tags are strings, numbers, booleans or null", unquote(k, kEsc))
		default:
			return "", errTagsSyntax
		}
		if err != nil {
			return "", err
		}
		if unquote(k, kEsc) == key {
			if found {
				return "", fmt.Errorf("tag %q appears twice", key)
			}
			found = true
			if isString {
				value = unquote(v, vEsc)
			}
		}
		i = skipSpace(s, j)
		if i == len(s) {
			return "", errTagsSyntax
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			if skipSpace(s, i+1) != len(s) {
				return "", errTagsSyntax
			}
			return value, nil
		default:
			return "", errTagsSyntax
		}
	}
}

var (
	errTagsNotObject = errors.New("not a JSON object of tags, such as {\"app.kubernetes.io/name\":\"orders\"}")
	errTagsSyntax    = errors.New("malformed JSON in tags")
)

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the JSON string at s[i] (a quote). It returns the string
// with its quotes, whether it has escapes, and the index after it.
func scanString(s string, i int) (quoted string, escaped bool, end int, err error) {
	if i == len(s) || s[i] != '"' {
		return "", false, 0, errTagsSyntax
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i : j+1], escaped, j + 1, nil
		case c == '\\':
			escaped = true
			j++
			if j == len(s) {
				return "", false, 0, errTagsSyntax
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s) || !isHex(s[j+1]) || !isHex(s[j+2]) || !isHex(s[j+3]) || !isHex(s[j+4]) {
					return "", false, 0, errTagsSyntax
				}
				j += 4
			default:
				return "", false, 0, errTagsSyntax
			}
		case c < 0x20:
			return "", false, 0, errTagsSyntax
		}
	}
	return "", false, 0, errTagsSyntax
}

// unquote returns the content of a string scanString accepted.
func unquote(quoted string, escaped bool) string {
	if !escaped {
		return quoted[1 : len(quoted)-1]
	}
	var v string
	if err := json.Unmarshal([]byte(quoted), &v); err != nil {
		return "" // cannot happen: scanString checked the escapes
	}
	return v
}

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func scanWord(s string, i int, w string) (int, error) {
	if len(s)-i < len(w) || s[i:i+len(w)] != w {
		return 0, errTagsSyntax
	}
	return i + len(w), nil
}

// scanNumber reads the JSON number at s[i].
func scanNumber(s string, i int) (int, error) {
	j := i
	if s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && '1' <= s[j] && s[j] <= '9':
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	default:
		return 0, errTagsSyntax
	}
	if j < len(s) && s[j] == '.' {
		j++
		if j == len(s) || !isDigit(s[j]) {
			return 0, errTagsSyntax
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j == len(s) || !isDigit(s[j]) {
			return 0, errTagsSyntax
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	return j, nil
}
