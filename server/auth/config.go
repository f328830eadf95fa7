package auth

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/cairn-dev/cairn/server/entityref"
)

// Mode turns authentication on or off.
type Mode string

const (
	// ModeRequired authenticates every call.
	ModeRequired Mode = "required"
	// ModeNone authenticates no call: every caller is the anonymous admin.
	ModeNone Mode = "none"
)

// Config is the `auth:` section of Cairn's configuration file.
type Config struct {
	Mode      Mode            `yaml:"mode"`
	Tokens    []TokenConfig   `yaml:"tokens"`
	Backstage BackstageConfig `yaml:"backstage"`
	// TeamNamespaces are the Backstage namespaces whose groups are teams:
	// `group:default/team-b` is team team-b when default is listed, and
	// makes no team when it is not. Groups of one name in two listed
	// namespaces are one team. Default (nil): [default].
	TeamNamespaces []string `yaml:"teamNamespaces"`
}

// TokenConfig is a static bearer token, known by its SHA-256 only
// (`printf %s "$TOKEN" | sha256sum`). Tokens are printable ASCII without
// spaces, as HTTP headers and gRPC metadata carry them.
type TokenConfig struct {
	// Name is the principal's name, in audit logs for instance.
	Name string `yaml:"name"`
	// SHA256 is the hex SHA-256 of the token, in either case.
	SHA256 string `yaml:"sha256"`
	Roles  []Role `yaml:"roles"`
	// Teams are team names (team-orders) or group references
	// (group:default/team-orders) in a namespace of TeamNamespaces. With
	// none, a viewer or admin token acts on every team.
	Teams []string `yaml:"teams"`
}

// BackstageConfig trusts the user tokens of a Backstage auth backend. It is
// off when JWKSURL is empty.
type BackstageConfig struct {
	// JWKSURL is the auth backend's key set,
	// http://backstage:7007/api/auth/.well-known/jwks.json.
	JWKSURL string `yaml:"jwksUrl"`
	// Issuer is the tokens' `iss`, http://backstage:7007/api/auth.
	Issuer string `yaml:"issuer"`
	// Audience must be in the tokens' `aud`; Backstage uses "backstage".
	Audience string `yaml:"audience"`
	// Roles are given to every Backstage user: viewer and developer when
	// absent (nil); an explicitly empty list gives none.
	Roles []Role `yaml:"roles"`
	// Approvers and Admins are user or group entity references
	// (`user:default/jane`, `group:default/payments-leads`; the namespace
	// defaults to `default`, and any namespace may be named), matched as
	// canonical references, without regard to case, against the token's
	// `sub` and `ent` references.
	Approvers []string `yaml:"approvers"`
	Admins    []string `yaml:"admins"`
	// UserInfoURL is where a user's ownership references are read for
	// tokens without the `ent` claim (Backstage's default); Issuer +
	// /v1/userinfo when empty, as Backstage's OpenID configuration names it.
	UserInfoURL string `yaml:"userInfoUrl"`
}

// userInfoURL is the user info endpoint of b.
func (b BackstageConfig) userInfoURL() string {
	if b.UserInfoURL != "" {
		return b.UserInfoURL
	}
	return strings.TrimSuffix(b.Issuer, "/") + "/v1/userinfo"
}

// DefaultBackstageRoles are the roles of every Backstage user unless
// BackstageConfig.Roles says otherwise.
var DefaultBackstageRoles = []Role{RoleViewer, RoleDeveloper}

func (b BackstageConfig) enabled() bool { return b.JWKSURL != "" }

// Validate returns every problem of c at once, joined, or nil. Its messages
// never repeat a configured sha256 value: someone may have put a token
// there by mistake.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch c.Mode {
	case ModeRequired, ModeNone:
	default:
		add("auth.mode %q: want %s or %s", c.Mode, ModeRequired, ModeNone)
	}
	teams, err := c.Teams()
	if err != nil {
		add("auth.teamNamespaces: %w", err)
	}
	if c.Mode == ModeRequired && len(c.Tokens) == 0 && !c.Backstage.enabled() {
		add("auth.mode is required but no tokens or backstage.jwksUrl are configured: " +
			"add auth.tokens or auth.backstage, or set auth.mode to none to turn authentication off")
	}

	names := map[string]int{}
	hashes := map[string]int{}
	for i, t := range c.Tokens {
		at := fmt.Sprintf("auth.tokens[%d]", i)
		switch first, dup := names[t.Name]; {
		case t.Name == "":
			add("%s.name: is required", at)
		case dup:
			add("%s.name: %q is the name of auth.tokens[%d] too", at, t.Name, first)
		default:
			names[t.Name] = i
		}
		if _, err := decodeHash(t.SHA256); err != nil {
			add("%s.sha256: %w", at, err)
		} else if first, dup := hashes[strings.ToLower(t.SHA256)]; dup {
			add("%s.sha256: is the hash of auth.tokens[%d] too", at, first)
		} else {
			hashes[strings.ToLower(t.SHA256)] = i
		}
		if len(t.Roles) == 0 {
			add("%s.roles: at least one role is required", at)
		}
		errs = append(errs, validateRoles(at+".roles", t.Roles)...)
		for _, team := range t.Teams {
			if _, err := teams.Owner(team); err != nil {
				add("%s.teams: %q %v", at, team, err)
			}
		}
	}

	b := c.Backstage
	if !b.enabled() {
		if b.Issuer != "" || b.Audience != "" || b.Roles != nil || len(b.Approvers) > 0 || len(b.Admins) > 0 || b.UserInfoURL != "" {
			add("auth.backstage.jwksUrl: is required when any other auth.backstage setting is set")
		}
		return errors.Join(errs...)
	}
	if u, err := url.Parse(b.JWKSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("auth.backstage.jwksUrl %q: want an absolute http or https URL", b.JWKSURL)
	}
	if b.UserInfoURL != "" {
		if u, err := url.Parse(b.UserInfoURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("auth.backstage.userInfoUrl %q: want an absolute http or https URL", b.UserInfoURL)
		}
	}
	if b.Issuer == "" {
		add("auth.backstage.issuer: is required with auth.backstage.jwksUrl (the `iss` of Backstage's tokens, such as http://backstage:7007/api/auth)")
	}
	if b.Audience == "" {
		add("auth.backstage.audience: is required with auth.backstage.jwksUrl (Backstage's user tokens have audience backstage)")
	}
	errs = append(errs, validateRoles("auth.backstage.roles", b.Roles)...)
	for _, list := range []struct {
		key  string
		refs []string
	}{{"approvers", b.Approvers}, {"admins", b.Admins}} {
		for _, ref := range list.refs {
			if _, ok := canonicalRef(ref); !ok {
				add("auth.backstage.%s: %q is not a user or group entity reference such as group:default/payments-leads", list.key, ref)
			}
		}
	}
	return errors.Join(errs...)
}

func validateRoles(at string, roles []Role) []error {
	var errs []error
	for _, r := range roles {
		if !r.Valid() {
			errs = append(errs, fmt.Errorf("%s: unknown role %q; want viewer, developer, approver or admin", at, r))
		}
	}
	return errs
}

// decodeHash reads a configured sha256. Its error never repeats the value.
func decodeHash(s string) ([32]byte, error) {
	var h [32]byte
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("must be the SHA-256 of the token as 64 hex characters, not %d characters; put the hash in the configuration, never the token", len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("must be the SHA-256 of the token as 64 hex characters (0-9, a-f); put the hash in the configuration, never the token")
	}
	return h, nil
}

// Teams are the teams of TeamNamespaces: entityref's default (namespace
// default only) when unset.
func (c Config) Teams() (entityref.Teams, error) {
	if c.TeamNamespaces == nil {
		return entityref.Teams{}, nil
	}
	return entityref.NewTeams(c.TeamNamespaces)
}

// canonicalRef reads a user or group entity reference, which must name its
// kind, into its canonical form (entityref.Canonical).
func canonicalRef(s string) (entityref.Ref, bool) {
	r, ok := entityref.Canonical(s, "")
	if !ok || (r.Kind != "user" && r.Kind != "group") {
		return entityref.Ref{}, false
	}
	return r, true
}
