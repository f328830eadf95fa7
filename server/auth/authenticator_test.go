package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/auth/authtest"
)

const (
	proxyToken = "pr0xy-t0ken-5c1a3f0e9b7d4e21a8c6"
	ciToken    = "ci-token-0b9e2d7c4a1f8e3b6d5c"
)

func newAuthenticator(t testing.TB, cfg auth.Config) *auth.Authenticator {
	t.Helper()
	a, err := auth.NewAuthenticator(context.Background(), cfg, nil)
	require.NoError(t, err)
	return a
}

func staticConfig() auth.Config {
	return auth.Config{Mode: auth.ModeRequired, Tokens: []auth.TokenConfig{
		{Name: "backstage-proxy", SHA256: hashOf(proxyToken), Roles: []auth.Role{auth.RoleViewer}, Teams: []string{}},
		{Name: "ci", SHA256: hashOf(ciToken), Roles: []auth.Role{auth.RoleDeveloper, auth.RoleViewer, auth.RoleDeveloper}, Teams: []string{"payments", "orders", "payments"}},
	}}
}

// requireRefused checks that err wraps sentinel and ends with reason.
func requireRefused(t testing.TB, err error, sentinel error, reason string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sentinel)
	require.Equal(t, sentinel.Error()+": "+reason, err.Error())
}

func TestAuthenticateStaticTokens(t *testing.T) {
	a := newAuthenticator(t, staticConfig())
	proxy := &auth.Principal{Name: "backstage-proxy", Roles: []auth.Role{auth.RoleViewer}, AllTeams: true}
	ci := &auth.Principal{Name: "ci", Roles: []auth.Role{auth.RoleViewer, auth.RoleDeveloper}, Teams: []string{"orders", "payments"}}
	tests := []struct {
		name          string
		authorization string
		want          *auth.Principal
		wantErr       error
		wantReason    string
	}{
		{"the right token is its principal", "Bearer " + proxyToken, proxy, nil, ""},
		{"a viewer with no teams acts on all teams", "Bearer " + proxyToken, proxy, nil, ""},
		{"a developer has its configured teams, sorted and unique", "Bearer " + ciToken, ci, nil, ""},
		{"the scheme is case-insensitive: bearer", "bearer " + proxyToken, proxy, nil, ""},
		{"the scheme is case-insensitive: BEARER", "BEARER " + proxyToken, proxy, nil, ""},
		{"several spaces may follow the scheme", "Bearer   " + proxyToken, proxy, nil, ""},
		{"a wrong token is unknown", "Bearer wrong-token-0000000000000000", nil, auth.ErrInvalidCredentials, "unknown token"},
		{"a token with a character more is unknown", "Bearer " + proxyToken + "x", nil, auth.ErrInvalidCredentials, "unknown token"},
		{"a token with a character less is unknown", "Bearer " + proxyToken[:len(proxyToken)-1], nil, auth.ErrInvalidCredentials, "unknown token"},
		{"the hash itself is not the token", "Bearer " + hashOf(proxyToken), nil, auth.ErrInvalidCredentials, "unknown token"},
		{"an empty header is no credentials", "", nil, auth.ErrNoCredentials, "no authorization header"},
		{"the scheme alone is malformed", "Bearer", nil, auth.ErrInvalidCredentials, "malformed authorization header"},
		{"the scheme and a space are malformed", "Bearer ", nil, auth.ErrInvalidCredentials, "malformed authorization header"},
		{"Basic is refused", "Basic YmFja3N0YWdlOnByb3h5", nil, auth.ErrInvalidCredentials, "unsupported authorization scheme, want Bearer"},
		{"a token without a scheme is refused", proxyToken, nil, auth.ErrInvalidCredentials, "unsupported authorization scheme, want Bearer"},
		{"a tab after the scheme is refused", "Bearer\t" + proxyToken, nil, auth.ErrInvalidCredentials, "unsupported authorization scheme, want Bearer"},
		{"a trailing space is refused", "Bearer " + proxyToken + " ", nil, auth.ErrInvalidCredentials, "malformed authorization header"},
		{"a control character is refused", "Bearer " + proxyToken + "\x00", nil, auth.ErrInvalidCredentials, "malformed authorization header"},
		{"a non-ASCII token is refused", "Bearer tökén", nil, auth.ErrInvalidCredentials, "malformed authorization header"},
		{"an overlong token is refused", "Bearer " + strings.Repeat("a", auth.MaxTokenLength+1), nil, auth.ErrInvalidCredentials, "token too long"},
		{"a JWT is unknown when Backstage is not configured", "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln", nil, auth.ErrInvalidCredentials, "unknown token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Authenticate(context.Background(), tt.authorization)
			if tt.wantErr != nil {
				requireRefused(t, err, tt.wantErr, tt.wantReason)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestAuthenticateStaticTokenPrincipalsAreCopies(t *testing.T) {
	a := newAuthenticator(t, staticConfig())
	p, err := a.Authenticate(context.Background(), "Bearer "+ciToken)
	require.NoError(t, err)
	p.Roles[0], p.Teams[0] = auth.RoleAdmin, "everything"
	again, err := a.Authenticate(context.Background(), "Bearer "+ciToken)
	require.NoError(t, err)
	require.Equal(t, []auth.Role{auth.RoleViewer, auth.RoleDeveloper}, again.Roles)
	require.Equal(t, []string{"orders", "payments"}, again.Teams)
}

func TestAuthenticateStaticTokenThatLooksLikeAJWTNeedsNoKeys(t *testing.T) {
	iss := authtest.NewIssuer(t)
	jwtLike := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJtYWNoaW5lIn0.c2lnbmF0dXJl"
	cfg := auth.Config{Mode: auth.ModeRequired, Backstage: iss.Config(authtest.Audience), Tokens: []auth.TokenConfig{
		{Name: "machine", SHA256: hashOf(jwtLike), Roles: []auth.Role{auth.RoleAdmin}, Teams: []string{"platform"}},
	}}
	a := newAuthenticator(t, cfg)
	p, err := a.Authenticate(context.Background(), "Bearer "+jwtLike)
	require.NoError(t, err)
	require.Equal(t, &auth.Principal{Name: "machine", Roles: []auth.Role{auth.RoleAdmin}, Teams: []string{"platform"}}, p)
	require.Zero(t, iss.Fetches(), "a static token is matched before any JWT verification")
}

func TestAuthenticateModeNoneIsTheAnonymousAdmin(t *testing.T) {
	a := newAuthenticator(t, auth.Config{Mode: auth.ModeNone, Tokens: staticConfig().Tokens})
	for _, h := range []string{"", "Bearer " + proxyToken, "Basic x", "garbage"} {
		p, err := a.Authenticate(context.Background(), h)
		require.NoError(t, err)
		require.Equal(t, &auth.Principal{Name: "anonymous", Roles: []auth.Role{auth.RoleAdmin}, AllTeams: true}, p)
	}
}

func TestNewAuthenticatorRefusesAnInvalidConfig(t *testing.T) {
	_, err := auth.NewAuthenticator(context.Background(), auth.Config{Mode: auth.ModeRequired}, nil)
	require.ErrorContains(t, err, "auth.mode is required but no tokens or backstage.jwksUrl are configured")
}

// userConfig trusts iss, with approvers and admins.
func userConfig(iss *authtest.Issuer) auth.Config {
	b := iss.Config(authtest.Audience)
	b.Approvers = []string{"group:default/payments-leads", "user:bob"}
	b.Admins = []string{"user:default/alice"}
	return auth.Config{Mode: auth.ModeRequired, Backstage: b}
}

// sign signs claims with any algorithm and key, and any header.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, header map[jose.HeaderKey]any, claims any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range header {
		opts.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	require.NoError(t, err)
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	require.NoError(t, err)
	return token
}

// unsigned builds a token from a header and claims and a raw signature.
func unsigned(t testing.TB, header, claims any, signature string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + "." + signature
}

func newKey(t testing.TB, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	return k
}

func TestAuthenticateUserTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a := newAuthenticator(t, userConfig(iss))
	now := time.Now()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{
			"iss": iss.URL,
			"sub": "user:default/jane",
			"ent": []string{"user:default/jane", "group:default/payments"},
			"aud": authtest.Audience,
			"iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(),
		}
		edit(c)
		return c
	}
	signed := func(edit func(map[string]any)) func() string {
		return func() string { return iss.Sign(t, claims(edit)) }
	}
	kid := iss.KeyID()
	pemKey := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(iss.PublicKey())
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	backstageHeader := map[string]any{"alg": "ES256", "kid": kid, "typ": "vnd.backstage.user"}
	jane := func(edit func(*auth.Principal)) *auth.Principal {
		p := &auth.Principal{Name: "user:default/jane", Roles: []auth.Role{auth.RoleViewer, auth.RoleDeveloper}, Teams: []string{"payments"}}
		edit(p)
		return p
	}
	same := func(*auth.Principal) {}

	tests := []struct {
		name       string
		token      func() string
		want       *auth.Principal
		wantErr    error
		wantReason string
	}{
		{"a valid user token is the user with the default roles and the teams of its groups", func() string {
			return iss.Token(t, "user:default/jane", []string{
				"user:default/jane", "group:default/payments", "group:orders", "group:other/payments",
				"group:default/Not_A_Team", "component:default/api", "not a ref!", "",
			}, time.Hour)
		}, jane(func(p *auth.Principal) { p.Teams = []string{"orders", "payments"} }), nil, ""},
		{"a token without ent has no teams", signed(func(c map[string]any) { delete(c, "ent") }),
			jane(func(p *auth.Principal) { p.Teams = nil }), nil, ""},
		{"a member of an approver group is an approver", signed(func(c map[string]any) {
			c["ent"] = []string{"group:default/payments", "group:default/payments-leads"}
		}), jane(func(p *auth.Principal) {
			p.Roles = []auth.Role{auth.RoleViewer, auth.RoleDeveloper, auth.RoleApprover}
			p.Teams = []string{"payments", "payments-leads"}
		}), nil, ""},
		{"a user listed as an approver is an approver", signed(func(c map[string]any) { c["sub"] = "user:default/bob"; delete(c, "ent") }),
			&auth.Principal{Name: "user:default/bob", Roles: []auth.Role{auth.RoleViewer, auth.RoleDeveloper, auth.RoleApprover}}, nil, ""},
		{"an admin acts on every team, matched regardless of case, and is named canonically", signed(func(c map[string]any) { c["sub"] = "User:Default/Alice" }),
			&auth.Principal{Name: "user:default/alice", Roles: []auth.Role{auth.RoleViewer, auth.RoleDeveloper, auth.RoleAdmin}, Teams: []string{"payments"}, AllTeams: true}, nil, ""},
		{"an audience list containing ours is accepted", signed(func(c map[string]any) { c["aud"] = []string{"other", authtest.Audience} }), jane(same), nil, ""},
		{"a token expired within the leeway is accepted", signed(func(c map[string]any) { c["exp"] = now.Add(-auth.Leeway / 2).Unix() }), jane(same), nil, ""},
		{"an expired token is refused", signed(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }), nil, auth.ErrInvalidCredentials, "token expired"},
		{"a token without expiry is refused", signed(func(c map[string]any) { delete(c, "exp") }), nil, auth.ErrInvalidCredentials, "token has no expiry"},
		{"a token not yet valid is refused", signed(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), nil, auth.ErrInvalidCredentials, "token not yet valid"},
		{"a token issued in the future is refused", signed(func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() }), nil, auth.ErrInvalidCredentials, "token issued in the future"},
		{"a wrong audience is refused", signed(func(c map[string]any) { c["aud"] = "catalog" }), nil, auth.ErrInvalidCredentials, "wrong audience"},
		{"a missing audience is refused", signed(func(c map[string]any) { delete(c, "aud") }), nil, auth.ErrInvalidCredentials, "wrong audience"},
		{"a wrong issuer is refused", signed(func(c map[string]any) { c["iss"] = "http://evil:7007/api/auth" }), nil, auth.ErrInvalidCredentials, "wrong issuer"},
		{"a missing sub is refused", signed(func(c map[string]any) { delete(c, "sub") }), nil, auth.ErrInvalidCredentials, "token has no subject"},
		{"a sub that is not a user is refused", signed(func(c map[string]any) { c["sub"] = "group:default/payments" }), nil, auth.ErrInvalidCredentials, "subject is not a user entity reference"},
		{"an ent that is not a list of strings is refused", signed(func(c map[string]any) { c["ent"] = "group:default/payments" }), nil, auth.ErrInvalidCredentials, "malformed claims"},
		{"a key id not in the JWKS is an unknown key", func() string {
			return sign(t, jose.ES256, newKey(t, elliptic.P256()), map[jose.HeaderKey]any{"kid": "not-in-the-jwks"}, claims(func(map[string]any) {}))
		}, nil, auth.ErrInvalidCredentials, "signed by an unknown key"},
		{"the right key id with another key is a bad signature", func() string {
			return sign(t, jose.ES256, newKey(t, elliptic.P256()), map[jose.HeaderKey]any{"kid": kid}, claims(func(map[string]any) {}))
		}, nil, auth.ErrInvalidCredentials, "bad signature"},
		{"claims changed after signing are a bad signature", func() string {
			good := strings.Split(iss.Sign(t, claims(func(map[string]any) {})), ".")
			forged := strings.Split(unsigned(t, backstageHeader, claims(func(c map[string]any) { c["sub"] = "user:default/alice" }), ""), ".")
			return good[0] + "." + forged[1] + "." + good[2]
		}, nil, auth.ErrInvalidCredentials, "bad signature"},
		{"alg none is refused", func() string {
			return unsigned(t, map[string]any{"alg": "none", "kid": kid}, claims(func(map[string]any) {}), "")
		}, nil, auth.ErrInvalidCredentials, "unsupported signing algorithm"},
		{"HS256 keyed with the public key is refused", func() string {
			return sign(t, jose.HS256, pemKey(), map[jose.HeaderKey]any{"kid": kid}, claims(func(map[string]any) {}))
		}, nil, auth.ErrInvalidCredentials, "unsupported signing algorithm"},
		{"ES384 is refused", func() string {
			return sign(t, jose.ES384, newKey(t, elliptic.P384()), map[jose.HeaderKey]any{"kid": kid}, claims(func(map[string]any) {}))
		}, nil, auth.ErrInvalidCredentials, "unsupported signing algorithm"},
		{"a token without a key id is refused", func() string {
			return sign(t, jose.ES256, newKey(t, elliptic.P256()), nil, claims(func(map[string]any) {}))
		}, nil, auth.ErrInvalidCredentials, "token has no key id"},
		{"a limited user token is refused", func() string {
			return unsigned(t, map[string]any{"alg": "ES256", "kid": kid, "typ": "vnd.backstage.limited-user"}, claims(func(map[string]any) {}), "c2ln")
		}, nil, auth.ErrInvalidCredentials, "not a Backstage user token"},
		{"a plugin token is refused", func() string {
			return unsigned(t, map[string]any{"alg": "ES256", "kid": kid, "typ": "vnd.backstage.plugin"}, claims(func(map[string]any) {}), "c2ln")
		}, nil, auth.ErrInvalidCredentials, "not a Backstage user token"},
		{"a signature spelled with non-zero padding bits is refused", func() string {
			token := iss.Sign(t, claims(func(map[string]any) {}))
			// 64 signature bytes are 86 characters: the last one carries 4 unused bits.
			last := strings.IndexByte(base64URL, token[len(token)-1])
			respelled := token[:len(token)-1] + string(base64URL[last^1])
			sig := func(tok string) []byte {
				b, err := base64.RawURLEncoding.DecodeString(tok[strings.LastIndexByte(tok, '.')+1:])
				require.NoError(t, err)
				return b
			}
			require.Equal(t, sig(token), sig(respelled), "a lenient decoder reads both spellings alike")
			return respelled
		}, nil, auth.ErrInvalidCredentials, "unknown token"},
		{"garbage is an unknown token", func() string { return "garbage" }, nil, auth.ErrInvalidCredentials, "unknown token"},
		{"three dotted words are an unknown token", func() string { return "a.b.c" }, nil, auth.ErrInvalidCredentials, "unknown token"},
		{"three empty parts are an unknown token", func() string { return ".." }, nil, auth.ErrInvalidCredentials, "unknown token"},
		{"a JWT of empty JSON objects is refused", func() string { return "e30.e30.e30" }, nil, auth.ErrInvalidCredentials, "unsupported signing algorithm"},
		{"a JWT of a non-JSON header is malformed", func() string { return "YWJj.e30.e30" }, nil, auth.ErrInvalidCredentials, "malformed token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Authenticate(context.Background(), "Bearer "+tt.token())
			if tt.wantErr != nil {
				requireRefused(t, err, tt.wantErr, tt.wantReason)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestAuthenticateUserTokenRoles(t *testing.T) {
	iss := authtest.NewIssuer(t)
	token := iss.Token(t, "user:default/jane", []string{"group:default/payments"}, time.Hour)
	tests := []struct {
		name  string
		roles []auth.Role
		want  []auth.Role
	}{
		{"absent roles are viewer and developer", nil, []auth.Role{auth.RoleViewer, auth.RoleDeveloper}},
		{"configured roles replace the default", []auth.Role{auth.RoleViewer}, []auth.Role{auth.RoleViewer}},
		{"an empty list gives no role", []auth.Role{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := auth.Config{Mode: auth.ModeRequired, Backstage: iss.Config(authtest.Audience)}
			cfg.Backstage.Roles = tt.roles
			p, err := newAuthenticator(t, cfg).Authenticate(context.Background(), "Bearer "+token)
			require.NoError(t, err)
			require.Equal(t, tt.want, p.Roles)
		})
	}
}

func TestAuthenticateUserTokenForAnotherAudienceIsRefused(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a := newAuthenticator(t, auth.Config{Mode: auth.ModeRequired, Backstage: iss.Config("cairn")})
	_, err := a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "user:default/jane", nil, time.Hour))
	requireRefused(t, err, auth.ErrInvalidCredentials, "wrong audience")
}

func TestUserTokenTeamsComeOnlyFromGroupsOfTeamNamespaces(t *testing.T) {
	iss := authtest.NewIssuer(t)
	tests := []struct {
		name       string
		namespaces []string
		ent        []string
		want       []string
	}{
		{"by default a group of another namespace makes no team",
			nil, []string{"group:sandbox/team-b", "group:default/team-a"}, []string{"team-a"}},
		{"a group without a namespace is of namespace default",
			nil, []string{"group:team-a"}, []string{"team-a"}},
		{"the case of a group is folded",
			nil, []string{"Group:DEFAULT/Team-A"}, []string{"team-a"}},
		{"a user of a team namespace makes no team",
			nil, []string{"user:default/team-b"}, nil},
		{"groups of one name in two listed namespaces are one team",
			[]string{"default", "Sandbox"}, []string{"group:sandbox/team-b", "group:default/team-b"}, []string{"team-b"}},
		{"namespace default makes no team when it is not listed",
			[]string{"sandbox"}, []string{"group:default/team-a", "group:team-c", "group:sandbox/team-b"}, []string{"team-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := auth.Config{Mode: auth.ModeRequired, Backstage: iss.Config(authtest.Audience), TeamNamespaces: tt.namespaces}
			p, err := newAuthenticator(t, cfg).Authenticate(context.Background(), "Bearer "+iss.Token(t, "user:default/mallory", tt.ent, time.Hour))
			require.NoError(t, err)
			require.Equal(t, tt.want, p.Teams)
			for _, team := range []string{"team-a", "team-b", "team-c"} {
				require.Equal(t, slices.Contains(tt.want, team), p.InTeam(team), team)
			}
		})
	}
}

func TestApproversAndAdminsMatchCanonicalReferences(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := auth.Config{Mode: auth.ModeRequired, Backstage: iss.Config(authtest.Audience)}
	cfg.Backstage.Approvers = []string{"group:Sandbox/Release-Leads", "user:Bob"}
	cfg.Backstage.Admins = []string{"user:default/Alice"}
	a := newAuthenticator(t, cfg)
	tests := []struct {
		name     string
		sub      string
		ent      []string
		approver bool
		admin    bool
	}{
		{"a user listed in another case is an admin", "user:default/alice", nil, false, true},
		{"a user listed without a namespace is of namespace default", "user:default/BOB", nil, true, false},
		{"an approver group may be of any namespace", "user:default/jane", []string{"group:sandbox/release-leads"}, true, false},
		{"a group of the same name in another namespace is not that group", "user:default/jane", []string{"group:default/release-leads"}, false, false},
		{"a user of the same name in another namespace is not that user", "user:sandbox/alice", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(context.Background(), "Bearer "+iss.Token(t, tt.sub, tt.ent, time.Hour))
			require.NoError(t, err)
			require.Equal(t, tt.approver, slices.Contains(p.Roles, auth.RoleApprover), "approver")
			require.Equal(t, tt.admin, p.Has(auth.RoleAdmin), "admin")
		})
	}
}

func TestStaticTokenTeamsAreCanonicalTeamNames(t *testing.T) {
	cfg := auth.Config{Mode: auth.ModeRequired, TeamNamespaces: []string{"default", "platform"}, Tokens: []auth.TokenConfig{{
		Name: "ci", SHA256: hashOf(ciToken), Roles: []auth.Role{auth.RoleDeveloper},
		Teams: []string{"group:default/Payments", "payments", "group:platform/orders", "Team-C"},
	}}}
	p, err := newAuthenticator(t, cfg).Authenticate(context.Background(), "Bearer "+ciToken)
	require.NoError(t, err)
	require.Equal(t, []string{"orders", "payments", "team-c"}, p.Teams)
}
