package auth_test

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/auth/authtest"
)

// clock is a settable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func clockedAuthenticator(t *testing.T, cfg auth.Config) (*auth.Authenticator, *clock) {
	t.Helper()
	a := newAuthenticator(t, cfg)
	c := &clock{now: time.Now()}
	auth.SetClock(a, c.Now)
	return a, c
}

func TestUserKeysAreFetchedOnceAndCached(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a := newAuthenticator(t, userConfig(iss))
	require.Zero(t, iss.Fetches(), "NewAuthenticator makes no network call")

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "user:default/jane", nil, time.Hour))
			require.NoError(t, err, "call %d", i)
		}()
	}
	wg.Wait()
	require.Equal(t, 1, iss.Fetches(), "concurrent first calls share one fetch")
}

func TestUserKeyRotationIsPickedUpOnAnUnknownKeyID(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a, clk := clockedAuthenticator(t, userConfig(iss))
	authenticate := func(token string) error {
		_, err := a.Authenticate(context.Background(), "Bearer "+token)
		return err
	}

	old := iss.Token(t, "user:default/jane", nil, time.Hour)
	require.NoError(t, authenticate(old))
	require.Equal(t, 1, iss.Fetches())

	clk.Advance(auth.RefreshCooldown)
	iss.Rotate(t)
	rotated := iss.Token(t, "user:default/jane", nil, time.Hour)
	require.NoError(t, authenticate(rotated), "a token signed by the new key verifies after a refetch")
	require.Equal(t, 2, iss.Fetches())

	requireRefused(t, authenticate(old), auth.ErrInvalidCredentials, "signed by an unknown key")
	require.Equal(t, 2, iss.Fetches(), "within the cooldown, an unknown key id fetches nothing")
}

func TestUserKeyRefetchesAreRateLimited(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a, clk := clockedAuthenticator(t, userConfig(iss))
	require.NoError(t, func() error {
		_, err := a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "user:default/jane", nil, time.Hour))
		return err
	}())
	require.Equal(t, 1, iss.Fetches())

	forged := func(kid string) string {
		return sign(t, jose.ES256, newKey(t, elliptic.P256()), map[jose.HeaderKey]any{"kid": kid},
			map[string]any{"iss": iss.URL, "sub": "user:default/mallory", "aud": authtest.Audience, "exp": time.Now().Add(time.Hour).Unix()})
	}
	for i := range 50 {
		_, err := a.Authenticate(context.Background(), "Bearer "+forged("made-up-"+string(rune('a'+i%26))))
		requireRefused(t, err, auth.ErrInvalidCredentials, "signed by an unknown key")
	}
	require.Equal(t, 1, iss.Fetches(), "made-up key ids within the cooldown fetch nothing")

	clk.Advance(auth.RefreshCooldown)
	_, err := a.Authenticate(context.Background(), "Bearer "+forged("made-up-again"))
	requireRefused(t, err, auth.ErrInvalidCredentials, "signed by an unknown key")
	require.Equal(t, 2, iss.Fetches(), "after the cooldown, an unknown key id fetches again")

	_, err = a.Authenticate(context.Background(), "Bearer "+forged(iss.KeyID()))
	requireRefused(t, err, auth.ErrInvalidCredentials, "bad signature")
	require.Equal(t, 2, iss.Fetches(), "a bad signature under a known key id fetches nothing")
}

func TestUserKeysAreRefreshedInTheBackgroundWhenOld(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a, clk := clockedAuthenticator(t, userConfig(iss))
	token := iss.Token(t, "user:default/jane", nil, 24*time.Hour)
	_, err := a.Authenticate(context.Background(), "Bearer "+token)
	require.NoError(t, err)
	require.Equal(t, 1, iss.Fetches())

	clk.Advance(auth.KeysMaxAge)
	_, err = a.Authenticate(context.Background(), "Bearer "+token)
	require.NoError(t, err, "old keys still verify while they are refreshed")
	require.Eventually(t, func() bool { return iss.Fetches() == 2 }, 5*time.Second, time.Millisecond)

	// The refreshed set lost the key: once refreshed again, its tokens fail.
	iss.Rotate(t)
	clk.Advance(auth.KeysMaxAge)
	require.Eventually(t, func() bool {
		_, err := a.Authenticate(context.Background(), "Bearer "+token)
		return err != nil && err.Error() == "invalid credentials: signed by an unknown key"
	}, 5*time.Second, time.Millisecond)
	require.Equal(t, 3, iss.Fetches(), "one fetch per refresh, none while one runs")
}

func TestUserTokensAreUnavailableWhenTheJWKSIsDown(t *testing.T) {
	iss := authtest.NewIssuer(t)
	var down atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "backstage is restarting", http.StatusBadGateway)
			return
		}
		resp, err := http.Get(iss.JWKSURL)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	cfg := userConfig(iss)
	cfg.Backstage.JWKSURL = proxy.URL
	a, clk := clockedAuthenticator(t, cfg)
	token := iss.Token(t, "user:default/jane", nil, time.Hour)

	down.Store(true)
	_, err := a.Authenticate(context.Background(), "Bearer "+token)
	requireRefused(t, err, auth.ErrUnavailable, "Backstage signing keys could not be fetched")
	_, err = a.Authenticate(context.Background(), "Bearer "+token)
	requireRefused(t, err, auth.ErrUnavailable, "Backstage signing keys could not be fetched")
	require.NotErrorIs(t, err, auth.ErrInvalidCredentials)

	down.Store(false)
	clk.Advance(auth.RefreshCooldown)
	_, err = a.Authenticate(context.Background(), "Bearer "+token)
	require.NoError(t, err, "the keys are fetched once the JWKS is back")

	down.Store(true)
	clk.Advance(auth.KeysMaxAge)
	for range 3 {
		_, err = a.Authenticate(context.Background(), "Bearer "+token)
		require.NoError(t, err, "a failed refresh keeps the keys it had")
	}
}

func TestUserTokenVerificationStopsWaitingWhenTheCallIsCanceled(t *testing.T) {
	iss := authtest.NewIssuer(t)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "too late", http.StatusServiceUnavailable)
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	cfg := userConfig(iss)
	cfg.Backstage.JWKSURL = slow.URL
	a := newAuthenticator(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := a.Authenticate(ctx, "Bearer "+iss.Token(t, "user:default/jane", nil, time.Hour))
	require.ErrorIs(t, err, auth.ErrUnavailable)
}

func TestJWKSKeysThatCannotVerifyAreIgnored(t *testing.T) {
	iss := authtest.NewIssuer(t)
	served := `{"keys": [
		{"kty": "EC", "crv": "secp256k1", "alg": "ES256K", "kid": "k1", "x": "AA", "y": "AA"},
		{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0ISE"},
		{"kty": "OKP", "crv": "Ed448", "kid": "ed448", "x": "AA"},
		KEY
	]}`
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(iss.JWKSURL)
		require.NoError(t, err)
		defer resp.Body.Close()
		var set jose.JSONWebKeySet
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
		key, err := set.Keys[0].MarshalJSON()
		require.NoError(t, err)
		_, _ = w.Write([]byte(strings.Replace(served, "KEY", string(key), 1)))
	}))
	t.Cleanup(good.Close)
	cfg := userConfig(iss)
	cfg.Backstage.JWKSURL = good.URL
	a := newAuthenticator(t, cfg)
	_, err := a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "user:default/jane", nil, time.Hour))
	require.NoError(t, err)

	_, err = a.Authenticate(context.Background(), "Bearer "+sign(t, jose.HS256, []byte("secretsecretsecretsecretsecret!!"), map[jose.HeaderKey]any{"kid": "hmac"},
		map[string]any{"iss": iss.URL, "sub": "user:default/mallory", "aud": authtest.Audience, "exp": time.Now().Add(time.Hour).Unix()}))
	requireRefused(t, err, auth.ErrInvalidCredentials, "unsupported signing algorithm")
}
