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

// requireNoPartOf fails if msg contains any 8-character piece of secret.
func requireNoPartOf(t testing.TB, msg, secret string) {
	t.Helper()
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(msg, secret[i:i+8]) {
			t.Fatalf("error %q contains %q, a piece of the credential", msg, secret[i:i+8])
		}
	}
}

func TestAuthenticateErrorsContainNoPartOfTheCredential(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := userConfig(iss)
	cfg.Tokens = staticConfig().Tokens
	a := newAuthenticator(t, cfg)
	now := time.Now()
	claims := map[string]any{"iss": iss.URL, "sub": "user:default/jane", "aud": authtest.Audience, "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for k, v := range claims {
			c[k] = v
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	valid := iss.Sign(t, claims)
	parts := strings.Split(valid, ".")

	credentials := []string{
		"wrong-token-0b9e2d7c4a1f8e3b6d5c",
		proxyToken + "x",
		proxyToken[1:],
		hashOf(proxyToken),
		iss.Token(t, "user:default/jane", []string{"group:default/payments"}, -time.Hour),
		iss.Sign(t, with("exp", nil)),
		iss.Sign(t, with("nbf", now.Add(time.Hour).Unix())),
		iss.Sign(t, with("aud", "catalog")),
		iss.Sign(t, with("iss", "http://evil/api/auth")),
		iss.Sign(t, with("sub", nil)),
		iss.Sign(t, with("sub", "group:default/payments")),
		iss.Sign(t, with("ent", 42)),
		sign(t, jose.ES256, newKey(t, elliptic.P256()), map[jose.HeaderKey]any{"kid": "unknown-key-id"}, claims),
		sign(t, jose.ES256, newKey(t, elliptic.P256()), map[jose.HeaderKey]any{"kid": iss.KeyID()}, claims),
		sign(t, jose.HS256, []byte(strings.Repeat("k", 32)), map[jose.HeaderKey]any{"kid": iss.KeyID()}, claims),
		unsigned(t, map[string]any{"alg": "none", "kid": iss.KeyID()}, claims, ""),
		unsigned(t, map[string]any{"alg": "ES256", "kid": iss.KeyID(), "typ": "vnd.backstage.limited-user"}, claims, parts[2]),
		parts[0] + "." + parts[1] + "." + parts[2][:40],
		parts[0] + "." + parts[1],
		valid + "." + parts[2],
		"eyJhbGciOiJFUzI1NiJ9garbage.eyJzdWIiOiJ4In0.signature",
		strings.Repeat("A", auth.MaxTokenLength+1),
		proxyToken + "\x01" + proxyToken,
	}
	for i, cred := range credentials {
		for _, header := range []string{"Bearer " + cred, "Basic " + cred, cred} {
			p, err := a.Authenticate(context.Background(), header)
			require.Error(t, err, "credential %d", i)
			require.Nil(t, p)
			requireNoPartOf(t, err.Error(), cred)
		}
	}
}
