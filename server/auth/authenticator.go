package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cairn-dev/cairn/server/entityref"
)

const (
	// MaxTokenLength bounds a bearer token, static or JWT.
	MaxTokenLength = 16 << 10
	// Leeway is the clock skew allowed on a user token's exp, nbf and iat.
	Leeway = 30 * time.Second
)

// SigningAlgorithms are the algorithms accepted on Backstage user tokens.
// Backstage signs with ES256 unless configured otherwise.
var SigningAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA}

// Authenticator authenticates calls. It is safe for concurrent use.
type Authenticator struct {
	none   bool
	tokens []staticToken
	users  *userTokens // nil unless Backstage user tokens are accepted
	now    func() time.Time
}

type staticToken struct {
	hash      [32]byte
	principal Principal
}

type userTokens struct {
	keys      *keySet
	issuer    string
	audience  string
	roles     []Role
	teams     entityref.Teams
	approvers []entityref.Ref // canonical
	admins    []entityref.Ref // canonical
	// userInfo gives the references of tokens without `ent`.
	userInfo *userInfo
}

// NewAuthenticator validates cfg and returns its Authenticator. It makes no
// network call: Backstage's keys are fetched, with client (a client with a
// 10 s timeout when nil), at the first user token. ctx is not kept.
func NewAuthenticator(ctx context.Context, cfg Config, client *http.Client) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	teams, _ := cfg.Teams() // validated
	a := &Authenticator{none: cfg.Mode == ModeNone, now: time.Now}
	for _, t := range cfg.Tokens {
		hash, _ := decodeHash(t.SHA256) // validated
		var names []string
		for _, team := range t.Teams {
			name, _ := teams.Owner(team) // validated
			names = append(names, name)
		}
		p := Principal{Name: t.Name, Roles: canonicalRoles(t.Roles), Teams: sortedUnique(names)}
		p.AllTeams = len(p.Teams) == 0 && actsForAllTeams(p.Roles)
		a.tokens = append(a.tokens, staticToken{hash: hash, principal: p})
	}
	if b := cfg.Backstage; b.enabled() {
		if client == nil {
			client = &http.Client{Timeout: fetchTimeout}
		}
		u := &userTokens{
			keys:     &keySet{url: b.JWKSURL, client: client, now: func() time.Time { return a.now() }},
			issuer:   b.Issuer,
			audience: b.Audience,
			roles:    canonicalRoles(DefaultBackstageRoles),
			teams:    teams,
			userInfo: &userInfo{url: b.userInfoURL(), client: client, now: func() time.Time { return a.now() },
				cache: map[[sha256.Size]byte]cachedRefs{}},
		}
		if b.Roles != nil {
			u.roles = canonicalRoles(b.Roles)
		}
		for _, ref := range b.Approvers {
			c, _ := canonicalRef(ref) // validated
			u.approvers = append(u.approvers, c)
		}
		for _, ref := range b.Admins {
			c, _ := canonicalRef(ref)
			u.admins = append(u.admins, c)
		}
		a.users = u
	}
	return a, nil
}

// actsForAllTeams reports whether a token of these roles, configured with
// no teams, acts for every team: an admin, or a token that only reads. A
// developer or approver with no teams acts for none, rather than all.
func actsForAllTeams(roles []Role) bool {
	if slices.Contains(roles, RoleAdmin) {
		return true
	}
	return !slices.Contains(roles, RoleDeveloper) && !slices.Contains(roles, RoleApprover)
}

// Authenticate returns the principal that authorization, the raw value of
// the authorization header or metadata (`Bearer <token>`, the scheme in any
// case), authenticates. Its errors wrap ErrNoCredentials,
// ErrInvalidCredentials or ErrUnavailable, and never contain any part of
// authorization. With mode none, everyone is the anonymous admin.
func (a *Authenticator) Authenticate(ctx context.Context, authorization string) (*Principal, error) {
	if a.none {
		return &Principal{Name: "anonymous", Roles: []Role{RoleAdmin}, AllTeams: true}, nil
	}
	if authorization == "" {
		return nil, &authError{ErrNoCredentials, "no authorization header"}
	}
	token, err := bearerToken(authorization)
	if err != nil {
		return nil, err
	}
	// Static tokens first, even when the token looks like a JWT: one hash
	// and a few comparisons.
	if p, ok := a.matchStatic(token); ok {
		return p, nil
	}
	if a.users != nil && looksLikeJWT(token) {
		return a.users.verify(ctx, token, a.now())
	}
	return nil, invalid(reasonUnknownToken)
}

// bearerToken returns the token of `Bearer <token>`: printable ASCII
// without spaces, after one or more spaces.
func bearerToken(authorization string) (string, error) {
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok {
		if strings.EqualFold(authorization, "bearer") {
			return "", invalid(reasonMalformedHeader)
		}
		return "", invalid(reasonScheme)
	}
	if !strings.EqualFold(scheme, "bearer") {
		return "", invalid(reasonScheme)
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", invalid(reasonMalformedHeader)
	}
	if len(token) > MaxTokenLength {
		return "", invalid(reasonTokenTooLong)
	}
	for i := 0; i < len(token); i++ {
		if token[i] <= ' ' || token[i] > '~' {
			return "", invalid(reasonMalformedHeader)
		}
	}
	return token, nil
}

// matchStatic compares the token's hash with every configured hash, in
// constant time and without stopping at a match.
func (a *Authenticator) matchStatic(token string) (*Principal, bool) {
	if len(a.tokens) == 0 {
		return nil, false
	}
	hash := sha256.Sum256([]byte(token))
	match := -1
	for i := range a.tokens {
		eq := subtle.ConstantTimeCompare(hash[:], a.tokens[i].hash[:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return nil, false
	}
	p := a.tokens[match].principal
	p.Roles = slices.Clone(p.Roles)
	p.Teams = slices.Clone(p.Teams)
	return &p, true
}

// looksLikeJWT reports whether token is a JWS in compact serialization:
// three parts in canonical unpadded base64url, the header and payload not
// empty. Canonical matters: a lenient decoder reads several spellings of one
// signature, and only the exact token Backstage issued should authenticate.
func looksLikeJWT(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, part := range parts {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
		if _, err := base64.RawURLEncoding.Strict().DecodeString(part); err != nil {
			return false
		}
	}
	return true
}

// userClaims are the claims of a Backstage user token.
type userClaims struct {
	jwt.Claims
	// Ent are the user's ownership entity references: the user and their
	// groups. Nil when the token leaves them out, as Backstage does by
	// default: they are then read from the auth backend's user info.
	Ent []string `json:"ent"`
}

// verify checks a Backstage user token and returns its principal.
func (u *userTokens) verify(ctx context.Context, token string, now time.Time) (*Principal, error) {
	jws, err := jose.ParseSignedCompact(token, SigningAlgorithms)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, invalid(reasonAlgorithm)
		}
		return nil, invalid(reasonMalformedJWT)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid(reasonMalformedJWT)
	}
	header := jws.Signatures[0].Header
	if header.KeyID == "" {
		return nil, invalid(reasonNoKeyID)
	}
	// Backstage's full user tokens say vnd.backstage.user, older ones
	// nothing. Limited user tokens (cookies) and plugin tokens are refused.
	if typ, _ := header.ExtraHeaders[jose.HeaderType].(string); typ != "" && typ != "vnd.backstage.user" && !strings.EqualFold(typ, "JWT") {
		return nil, invalid(reasonTokenType)
	}

	keys, err := u.keys.lookup(ctx, header.KeyID)
	switch {
	case errors.Is(err, errKeysUnavailable):
		return nil, &authError{ErrUnavailable, reasonKeysUnavailable}
	case err != nil:
		return nil, invalid(reasonUnknownKey)
	}
	var payload []byte
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != header.Algorithm {
			continue
		}
		if payload, err = jws.Verify(k.Key); err == nil {
			break
		}
	}
	if payload == nil {
		return nil, invalid(reasonBadSignature)
	}

	var claims userClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, invalid(reasonMalformedClaims)
	}
	if claims.Expiry == nil {
		return nil, invalid(reasonNoExpiry)
	}
	err = claims.ValidateWithLeeway(jwt.Expected{
		Issuer:      u.issuer,
		AnyAudience: jwt.Audience{u.audience},
		Time:        now,
	}, Leeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return nil, invalid(reasonExpired)
	case errors.Is(err, jwt.ErrNotValidYet):
		return nil, invalid(reasonNotYetValid)
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, invalid(reasonIssuedFuture)
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, invalid(reasonIssuer)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, invalid(reasonAudience)
	case err != nil:
		return nil, invalid(reasonMalformedClaims)
	}
	if claims.Subject == "" {
		return nil, invalid(reasonNoSubject)
	}
	sub, ok := canonicalRef(claims.Subject)
	if !ok || sub.Kind != "user" {
		return nil, invalid(reasonSubject)
	}
	ent := claims.Ent
	if ent == nil {
		if ent, err = u.userInfo.ent(ctx, token, sub.String(), claims.Expiry.Time()); err != nil {
			return nil, err
		}
	}
	return u.principal(sub, ent), nil
}

// principal is the principal of a verified user token: sub is its
// canonical subject, ent its ownership references. Its name is the
// canonical subject, and its teams those of its groups in the namespaces
// that make teams: a group of another namespace makes none, whatever its
// name.
func (u *userTokens) principal(sub entityref.Ref, ent []string) *Principal {
	refs := []entityref.Ref{sub}
	var teams []string
	for _, e := range ent {
		ref, ok := canonicalRef(e)
		if !ok {
			continue
		}
		refs = append(refs, ref)
		if team, ok := u.teams.Group(ref); ok {
			teams = append(teams, team)
		}
	}
	listed := func(list []entityref.Ref) bool {
		return slices.ContainsFunc(refs, func(r entityref.Ref) bool { return slices.Contains(list, r) })
	}
	roles := slices.Clone(u.roles)
	if listed(u.approvers) {
		roles = append(roles, RoleApprover)
	}
	admin := listed(u.admins)
	if admin {
		roles = append(roles, RoleAdmin)
	}
	return &Principal{Name: sub.String(), Roles: canonicalRoles(roles), Teams: sortedUnique(teams), AllTeams: admin}
}

// canonicalRoles returns roles in the order of Roles, without duplicates.
func canonicalRoles(roles []Role) []Role {
	var out []Role
	for _, r := range Roles {
		if slices.Contains(roles, r) {
			out = append(out, r)
		}
	}
	return out
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// ErrNoBackstageUsers is BackstageUser's error when Cairn takes no
// Backstage user tokens (auth.backstage is not configured).
var ErrNoBackstageUsers = errors.New("Backstage users are not configured (auth.backstage)")

// BackstageUser is the principal of the Backstage user entity user, a
// member of the groups of ownership (entity references, as a token's
// `ent` claim lists them), as a verified user token of theirs would make
// it: the same name, roles and teams. Cairn uses it for people it knows by
// another channel, such as Slack, so that every rule holds for them as it
// does in Backstage.
func (a *Authenticator) BackstageUser(user string, ownership []string) (*Principal, error) {
	if a.users == nil {
		return nil, ErrNoBackstageUsers
	}
	sub, ok := canonicalRef(user)
	if !ok || sub.Kind != "user" {
		return nil, fmt.Errorf("%q is not a user entity reference such as user:default/jane", user)
	}
	return a.users.principal(sub, ownership), nil
}
