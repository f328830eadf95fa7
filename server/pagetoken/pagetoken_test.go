package pagetoken

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeReturnsTheKeyEncoded(t *testing.T) {
	tok := Encode("orders-service", "owner=team-orders")
	after, err := Decode(tok, "owner=team-orders")
	require.NoError(t, err)
	require.Equal(t, "orders-service", after)
}

func TestDecodeRefuses(t *testing.T) {
	valid := Encode("orders-service", "owner=team-orders")
	tests := []struct {
		name  string
		token string
		query string
		want  error
	}{
		{"a token used with other filters", valid, "owner=team-payments", ErrQueryChanged},
		{"text that is not base64", "not a token!", "", ErrInvalid},
		{"base64 that is not a token", "aGVsbG8", "", ErrInvalid},
		{"a token without a key", Encode("", ""), "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.token, tt.query)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode("orders-service", "q"), "q")
	f.Add("", "")
	f.Add("eyJhIjoieCIsInEiOiJ5In0", "q")
	f.Fuzz(func(t *testing.T, tok, query string) {
		after, err := Decode(tok, query)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to a token that decodes the same.
		again, err := Decode(Encode(after, query), query)
		if err != nil || again != after {
			t.Fatalf("round trip of %q: got %q, %v", after, again, err)
		}
	})
}

func TestDecodeIntReadsTheIntegerKeyOfAPage(t *testing.T) {
	first, err := DecodeInt("", "q")
	require.NoError(t, err)
	require.Zero(t, first)

	after, err := DecodeInt(Encode("250", "q"), "q")
	require.NoError(t, err)
	require.EqualValues(t, 250, after)

	_, err = DecodeInt(Encode("not-a-number", "q"), "q")
	require.ErrorIs(t, err, ErrInvalid)
	_, err = DecodeInt(Encode("-1", "q"), "q")
	require.ErrorIs(t, err, ErrInvalid)
	_, err = DecodeInt(Encode("250", "q"), "other")
	require.ErrorIs(t, err, ErrQueryChanged)
}
