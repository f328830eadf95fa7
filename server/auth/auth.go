// Package auth says who is calling Cairn: it turns the `authorization`
// header of a call (gRPC metadata, or the HTTP header the REST gateway
// forwards) into a Principal with roles and teams.
//
// Two kinds of credentials are accepted, both as `Bearer <token>`:
//
//   - static tokens, for machines such as the Backstage proxy, configured by
//     the SHA-256 of the token (the token itself never appears in the
//     configuration);
//   - Backstage user tokens: JWTs signed by Backstage's auth backend,
//     verified against its JWKS, whose `sub` names the user and whose `ent`
//     claim lists the user's ownership references (their groups).
//
// The package never logs and its errors never contain any part of a
// credential: every reason is a fixed phrase.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/server/apierr"
)

// Role is what a principal may do; a rule table maps RPCs to roles.
type Role string

// The roles, from least to most powerful. RoleAdmin implies every other role.
const (
	RoleViewer    Role = "viewer"
	RoleDeveloper Role = "developer"
	RoleApprover  Role = "approver"
	RoleAdmin     Role = "admin"
)

// Roles lists every known role, least powerful first.
var Roles = []Role{RoleViewer, RoleDeveloper, RoleApprover, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Principal is an authenticated caller.
type Principal struct {
	// Name is the token's configured name ("backstage-proxy"), the
	// Backstage user's canonical entity reference ("user:default/jane",
	// lowercase), or "anonymous" when authentication is off. Compare names
	// with SamePrincipal.
	Name string
	// Roles are the principal's roles, in the order of Roles, without
	// duplicates.
	Roles []Role
	// Teams are the team names the principal belongs to, sorted, without
	// duplicates.
	Teams []string
	// AllTeams makes the principal a member of every team: a viewer or
	// admin token configured with no teams, a Backstage admin, or the
	// anonymous principal.
	AllTeams bool
}

// Has reports whether p has role r. An admin has every role, and every
// role may read (viewer).
func (p *Principal) Has(r Role) bool {
	if p == nil || len(p.Roles) == 0 {
		return false
	}
	return r == RoleViewer || slices.Contains(p.Roles, r) || slices.Contains(p.Roles, RoleAdmin)
}

// InTeam reports whether p acts for team: p has AllTeams or lists it. The
// empty team is in no one's teams.
func (p *Principal) InTeam(team string) bool {
	if p == nil || team == "" {
		return false
	}
	return p.AllTeams || slices.Contains(p.Teams, team)
}

type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal NewContext put in ctx.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// Errors of Authenticate. Each error it returns wraps exactly one of them
// (test with errors.Is) with a short fixed reason, such as
// "invalid credentials: token expired"; none contains any part of the
// credential.
var (
	// ErrNoCredentials: the call has no authorization header, or an empty
	// one (codes.Unauthenticated).
	ErrNoCredentials = errors.New("no credentials")
	// ErrInvalidCredentials: the credentials are malformed, unknown,
	// expired or otherwise not acceptable (codes.Unauthenticated).
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrUnavailable: a user token names a signing key that is not cached
	// and Backstage's JWKS could not be fetched, so the token can be
	// neither accepted nor refused. The caller is not at fault
	// (codes.Unavailable).
	ErrUnavailable = errors.New("cannot verify user tokens now")
)

// authError is an error of Authenticate: a sentinel and a fixed reason.
type authError struct {
	sentinel error
	reason   string
}

func (e *authError) Error() string { return e.sentinel.Error() + ": " + e.reason }
func (e *authError) Unwrap() error { return e.sentinel }

// The reasons of Authenticate's errors. They are constants so that no
// error can ever carry any part of a credential.
const (
	reasonMalformedHeader     = "malformed authorization header"
	reasonScheme              = "unsupported authorization scheme, want Bearer"
	reasonTokenTooLong        = "token too long"
	reasonUnknownToken        = "unknown token"
	reasonMalformedJWT        = "malformed token"
	reasonAlgorithm           = "unsupported signing algorithm"
	reasonNoKeyID             = "token has no key id"
	reasonTokenType           = "not a Backstage user token"
	reasonUnknownKey          = "signed by an unknown key"
	reasonBadSignature        = "bad signature"
	reasonMalformedClaims     = "malformed claims"
	reasonNoExpiry            = "token has no expiry"
	reasonExpired             = "token expired"
	reasonNotYetValid         = "token not yet valid"
	reasonIssuedFuture        = "token issued in the future"
	reasonIssuer              = "wrong issuer"
	reasonAudience            = "wrong audience"
	reasonNoSubject           = "token has no subject"
	reasonSubject             = "subject is not a user entity reference"
	reasonKeysUnavailable     = "Backstage signing keys could not be fetched"
	reasonUserInfoUnavailable = "Backstage user info could not be fetched"
	reasonUserInfoRefused     = "Backstage user info refused the token"
)

func invalid(reason string) error { return &authError{ErrInvalidCredentials, reason} }

// ActsFor reports whether the principal in ctx may act on team's
// resources: an admin, or a member of the team.
func ActsFor(ctx context.Context, team string) bool {
	p, ok := FromContext(ctx)
	return ok && (p.Has(RoleAdmin) || p.InTeam(team))
}

// RequireTeam refuses, with PERMISSION_DENIED, a caller in ctx who does not
// act for team; action says what was refused, such as "change services of".
func RequireTeam(ctx context.Context, team, action string) error {
	if ActsFor(ctx, team) {
		return nil
	}
	return apierr.PermissionDenied("NOT_TEAM_MEMBER", fmt.Sprintf("%s may not %s team %q", Name(ctx), action, team))
}

// SamePrincipal reports whether two principal names, as Name gives them and
// the store keeps them, name one caller. Entity references compare in their
// canonical form, so that `user:default/Zed` (as names were stored before
// they were canonical) is `user:default/zed`; other names compare without
// regard to case, so that no token decides what a token of the same name
// in another case asked for.
func SamePrincipal(a, b string) bool {
	return canonicalName(a) == canonicalName(b)
}

func canonicalName(name string) string {
	if r, ok := canonicalRef(name); ok {
		return r.String()
	}
	return strings.ToLower(name)
}

// Name is the name of the principal in ctx, or "anonymous".
func Name(ctx context.Context) string {
	if p, ok := FromContext(ctx); ok {
		return p.Name
	}
	return "anonymous"
}
