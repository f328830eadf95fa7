// Package authtest stands in for Backstage's auth backend in tests: it
// serves a JWKS and the user info endpoint over httptest, and signs user
// tokens with its key. Tests that need Backstage's own backend run the real
// one; this stand-in answers as it does.
//
//	iss := authtest.NewIssuer(t)
//	cfg := auth.Config{Mode: auth.ModeRequired, Backstage: iss.Config(authtest.Audience)}
//	token := iss.Token(t, "user:default/jane", []string{"group:default/payments"}, time.Hour)
//	// call with the header "Authorization: Bearer " + token
package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cairn-dev/cairn/server/auth"
)

// Audience is the audience of the tokens an Issuer signs, as Backstage's.
const Audience = "backstage"

// Issuer is a Backstage auth backend: a JWKS at JWKSURL with one ES256 key,
// and tokens issued by Issuer.
type Issuer struct {
	// URL is the tokens' issuer (`iss`): the server's URL + /api/auth.
	URL string
	// JWKSURL serves the public key: URL + /.well-known/jwks.json.
	JWKSURL string

	fetches         atomic.Int64
	userInfoFetches atomic.Int64
	mu              sync.Mutex
	key             *ecdsa.PrivateKey
	kid             string
	ownership       map[string][]string // by sub: what user info answers
	userInfoDown    bool
}

// NewIssuer starts an Issuer, stopped when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{}
	iss.Rotate(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/auth/.well-known/jwks.json", iss.serveJWKS)
	mux.HandleFunc("GET /api/auth/v1/userinfo", iss.serveUserInfo)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL + "/api/auth"
	iss.JWKSURL = iss.URL + "/.well-known/jwks.json"
	return iss
}

func (iss *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	iss.fetches.Add(1)
	iss.mu.Lock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &iss.key.PublicKey, KeyID: iss.kid, Algorithm: string(jose.ES256), Use: "sig",
	}}}
	iss.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(set)
}

// Config is the auth.BackstageConfig that trusts this issuer's tokens for
// audience; Token's tokens are for Audience.
func (iss *Issuer) Config(audience string) auth.BackstageConfig {
	return auth.BackstageConfig{JWKSURL: iss.JWKSURL, Issuer: iss.URL, Audience: audience}
}

// Token is a user token for sub (`user:default/jane`) with ownership
// references ent (`group:default/payments`), valid for ttl from now (a
// negative ttl makes an expired token).
func (iss *Issuer) Token(t testing.TB, sub string, ent []string, ttl time.Duration) string {
	t.Helper()
	now := time.Now()
	return iss.Sign(t, map[string]any{
		"iss": iss.URL,
		"sub": sub,
		"ent": ent,
		"aud": Audience,
		"iat": now.Unix(),
		"exp": now.Add(ttl).Unix(),
	})
}

// Sign signs any claims as a user token (header typ vnd.backstage.user)
// with the current key.
func (iss *Issuer) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	iss.mu.Lock()
	key := jose.JSONWebKey{Key: iss.key, KeyID: iss.kid, Algorithm: string(jose.ES256)}
	iss.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("vnd.backstage.user"))
	if err != nil {
		t.Fatalf("authtest: signer: %v", err)
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatalf("authtest: sign: %v", err)
	}
	return token
}

// Rotate replaces the signing key with a new one, with a new key id; the
// JWKS serves only the new key from now on.
func (iss *Issuer) Rotate(t testing.TB) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("authtest: key: %v", err)
	}
	kid := make([]byte, 8)
	_, _ = rand.Read(kid)
	iss.mu.Lock()
	iss.key, iss.kid = key, hex.EncodeToString(kid)
	iss.mu.Unlock()
}

// KeyID is the id of the current signing key.
func (iss *Issuer) KeyID() string {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.kid
}

// PublicKey is the current public key.
func (iss *Issuer) PublicKey() *ecdsa.PublicKey {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return &iss.key.PublicKey
}

// Fetches counts the requests for the JWKS so far.
func (iss *Issuer) Fetches() int { return int(iss.fetches.Load()) }

// serveUserInfo answers as Backstage's `GET /api/auth/v1/userinfo`:
// `{"claims": {"sub", "ent"}}` for a token it signed with its current key.
// ent is the token's own claim, else what SetOwnership gave the user, else
// the user alone.
func (iss *Issuer) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	iss.userInfoFetches.Add(1)
	iss.mu.Lock()
	key, down := &iss.key.PublicKey, iss.userInfoDown
	iss.mu.Unlock()
	if down {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	var claims struct {
		Sub string   `json:"sub"`
		Ent []string `json:"ent"`
	}
	if !ok || err != nil || parsed.Claims(key, &claims) != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if claims.Ent == nil {
		iss.mu.Lock()
		claims.Ent, ok = iss.ownership[strings.ToLower(claims.Sub)]
		iss.mu.Unlock()
		if !ok {
			claims.Ent = []string{claims.Sub}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"claims": claims})
}

// SetOwnership makes user info answer ent for the user sub, for tokens
// without an `ent` claim (TokenWithoutEnt).
func (iss *Issuer) SetOwnership(sub string, ent []string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if iss.ownership == nil {
		iss.ownership = map[string][]string{}
	}
	iss.ownership[strings.ToLower(sub)] = ent // entity references fold case
}

// SetUserInfoDown makes user info answer 503 while down is true.
func (iss *Issuer) SetUserInfoDown(down bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.userInfoDown = down
}

// TokenWithoutEnt is a user token for sub with no `ent` claim, as
// Backstage issues them by default, valid for ttl from now.
func (iss *Issuer) TokenWithoutEnt(t testing.TB, sub string, ttl time.Duration) string {
	t.Helper()
	now := time.Now()
	return iss.Sign(t, map[string]any{
		"iss": iss.URL, "sub": sub, "aud": Audience, "iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	})
}

// UserInfoFetches counts the requests for user info so far.
func (iss *Issuer) UserInfoFetches() int { return int(iss.userInfoFetches.Load()) }
