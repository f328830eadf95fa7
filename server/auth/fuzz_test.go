package auth_test

import (
	"context"
	"crypto/elliptic"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/auth/authtest"
)

// FuzzAuthenticateStaticToken: no header panics, and a header authenticates
// exactly when it is `Bearer` (any case), spaces and a configured token.
func FuzzAuthenticateStaticToken(f *testing.F) {
	a := newAuthenticator(f, staticConfig())
	for _, seed := range []string{
		"", "Bearer", "Bearer ", "Bearer " + proxyToken, "bearer " + proxyToken, "BeArEr   " + ciToken,
		"Basic " + proxyToken, proxyToken, "Bearer " + proxyToken + " ", "Bearer " + proxyToken + "\x00",
		"Bearer " + proxyToken[:len(proxyToken)-1], "Bearer\t" + proxyToken, " Bearer " + proxyToken,
		"Bearer " + hashOf(proxyToken), "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln", "Bearer ü" + proxyToken,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		p, err := a.Authenticate(context.Background(), header)

		want := ""
		if scheme, rest, ok := strings.Cut(header, " "); ok && strings.EqualFold(scheme, "bearer") {
			switch strings.TrimLeft(rest, " ") {
			case proxyToken:
				want = "backstage-proxy"
			case ciToken:
				want = "ci"
			}
		}
		if want != "" {
			require.NoError(t, err)
			require.Equal(t, want, p.Name)
			return
		}
		require.Error(t, err)
		require.Nil(t, p)
		if header == "" {
			require.ErrorIs(t, err, auth.ErrNoCredentials)
		} else {
			require.ErrorIs(t, err, auth.ErrInvalidCredentials)
		}
	})
}

// FuzzAuthenticateJWT: no token panics, and none authenticates unless it is
// byte for byte a token the issuer signed. The JWKS is fetched once; made-up
// key ids refetch it at most once per cooldown.
func FuzzAuthenticateJWT(f *testing.F) {
	iss := authtest.NewIssuer(f)
	a := newAuthenticator(f, userConfig(iss))
	valid := map[string]bool{}
	mint := func(sub string, ent []string) string {
		token := iss.Token(f, sub, ent, 24*time.Hour)
		valid[token] = true
		return token
	}
	tokens := []string{
		mint("user:default/jane", []string{"user:default/jane", "group:default/payments"}),
		mint("user:default/alice", nil),
		mint("user:default/bob", []string{"group:default/payments-leads", "group:default/orders"}),
	}
	for _, token := range tokens {
		if _, err := a.Authenticate(context.Background(), "Bearer "+token); err != nil {
			f.Fatalf("a minted token does not authenticate: %v", err)
		}
	}

	for i, token := range tokens {
		f.Add(token)
		parts := strings.Split(token, ".")
		other := strings.Split(tokens[(i+1)%len(tokens)], ".")
		f.Add(parts[0] + "." + other[1] + "." + parts[2])
		f.Add(parts[0] + "." + parts[1] + "." + other[2])
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + "." + parts[1])
		f.Add(token + "A")
		f.Add(token[:len(token)-1])
		for pos := 0; pos < len(token); pos += 11 {
			f.Add(token[:pos] + string(base64URL[(strings.IndexByte(base64URL, token[pos])+1)%64]) + token[pos+1:])
		}
	}
	claims := map[string]any{"iss": iss.URL, "sub": "user:default/mallory", "aud": authtest.Audience, "exp": time.Now().Add(time.Hour).Unix()}
	f.Add(sign(f, jose.ES256, newKey(f, elliptic.P256()), map[jose.HeaderKey]any{"kid": iss.KeyID()}, claims))
	f.Add(sign(f, jose.ES256, newKey(f, elliptic.P256()), map[jose.HeaderKey]any{"kid": "made-up"}, claims))
	f.Add(sign(f, jose.HS256, []byte(strings.Repeat("k", 32)), map[jose.HeaderKey]any{"kid": iss.KeyID()}, claims))
	f.Add(unsigned(f, map[string]any{"alg": "none", "kid": iss.KeyID()}, claims, ""))
	f.Add("e30.e30.e30")
	f.Add("..")
	f.Add("a.b.c")

	f.Fuzz(func(t *testing.T, token string) {
		p, err := a.Authenticate(context.Background(), "Bearer "+token)
		if err == nil {
			require.True(t, valid[token], "authenticated a token the issuer did not sign: %q", token)
			require.NotNil(t, p)
			return
		}
		require.Nil(t, p)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	})
}
