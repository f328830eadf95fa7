// Package pagetoken makes the opaque page tokens of Cairn's list calls
// (AIP-158). A token carries the sort key the next page starts after and a
// digest of the request's other parameters, so that a token is refused when
// replayed with different filters instead of silently returning wrong pages.
package pagetoken

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
)

// ErrInvalid means the token was not made by Encode.
var ErrInvalid = errors.New("page token is not one this server issued")

// ErrQueryChanged means the token was issued for a request with other
// parameters.
var ErrQueryChanged = errors.New("page token was issued for a request with other parameters")

type token struct {
	After string `json:"a"`
	Query string `json:"q"`
}

// Encode returns the token for the page after key `after` of the request
// whose parameters (other than page size and token) are described by query.
func Encode(after, query string) string {
	b, _ := json.Marshal(token{After: after, Query: digest(query)}) // strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode returns the key a token's page starts after. query must describe
// the same parameters as when the token was issued.
func Decode(tok, query string) (after string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", ErrInvalid
	}
	var t token
	if err := json.Unmarshal(b, &t); err != nil || t.After == "" {
		return "", ErrInvalid
	}
	if t.Query != digest(query) {
		return "", ErrQueryChanged
	}
	return t.After, nil
}

func digest(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:8])
}

// Page sizes of list calls: what 0 means, and the most one page holds.
const (
	DefaultSize = 50
	MaxSize     = 1000
)

// Size is the page size to use for a requested one: the default for 0, and
// at most MaxSize (AIP-158 coerces rather than refuses large sizes).
func Size(requested int32) int {
	switch {
	case requested <= 0:
		return DefaultSize
	case requested > MaxSize:
		return MaxSize
	}
	return int(requested)
}

// Page cuts items, fetched as up to size+1 rows so that one more than a page
// tells whether another page follows, to one page, and returns the token of
// the next page ("" on the last). key is the sort key of an item.
func Page[T any](items []T, size int, query string, key func(T) string) ([]T, string) {
	if len(items) <= size {
		return items, ""
	}
	items = items[:size]
	return items, Encode(key(items[size-1]), query)
}

// DecodeInt is Decode for lists keyed by an integer, such as an ID or an
// offset: 0 for the first page (an empty token).
func DecodeInt(tok, query string) (int64, error) {
	if tok == "" {
		return 0, nil
	}
	after, err := Decode(tok, query)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(after, 10, 64)
	if err != nil || n < 0 {
		return 0, ErrInvalid
	}
	return n, nil
}
