package auth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/cairn-dev/cairn/server/auth"
)

func hashOf(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

var backstage = auth.BackstageConfig{
	JWKSURL:  "http://backstage:7007/api/auth/.well-known/jwks.json",
	Issuer:   "http://backstage:7007/api/auth",
	Audience: "backstage",
}

func TestConfigValidate(t *testing.T) {
	proxy := auth.TokenConfig{Name: "backstage-proxy", SHA256: hashOf("t0ken"), Roles: []auth.Role{auth.RoleViewer}}
	with := func(f func(*auth.Config)) auth.Config {
		c := auth.Config{Mode: auth.ModeRequired, Tokens: []auth.TokenConfig{proxy}, Backstage: backstage}
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  auth.Config
		want []string // substrings of the error, one per problem; none when valid
	}{
		{"tokens and backstage are valid", with(func(*auth.Config) {}), nil},
		{"tokens alone are valid", with(func(c *auth.Config) { c.Backstage = auth.BackstageConfig{} }), nil},
		{"backstage alone is valid", with(func(c *auth.Config) { c.Tokens = nil }), nil},
		{"mode none needs nothing configured", auth.Config{Mode: auth.ModeNone}, nil},
		{"an upper-case sha256 is accepted", with(func(c *auth.Config) { c.Tokens[0].SHA256 = strings.ToUpper(proxy.SHA256) }), nil},
		{"teams that are team names are accepted", with(func(c *auth.Config) { c.Tokens[0].Teams = []string{"payments", "team-orders"} }), nil},
		{"roles, approvers and admins are accepted", with(func(c *auth.Config) {
			c.Backstage.Roles = []auth.Role{auth.RoleViewer}
			c.Backstage.Approvers = []string{"group:default/payments-leads", "user:jane", "Group:default/Leads"}
			c.Backstage.Admins = []string{"user:default/alice"}
		}), nil},
		{"required with nothing configured says so",
			auth.Config{Mode: auth.ModeRequired},
			[]string{"auth.mode is required but no tokens or backstage.jwksUrl are configured: "}},
		{"an empty mode is refused", with(func(c *auth.Config) { c.Mode = "" }), []string{`auth.mode "": want required or none`}},
		{"an unknown mode is refused", with(func(c *auth.Config) { c.Mode = "optional" }), []string{`auth.mode "optional"`}},
		{"a token without a name is refused", with(func(c *auth.Config) { c.Tokens[0].Name = "" }), []string{"auth.tokens[0].name: is required"}},
		{"token names are unique", with(func(c *auth.Config) {
			c.Tokens = append(c.Tokens, auth.TokenConfig{Name: proxy.Name, SHA256: hashOf("other"), Roles: proxy.Roles})
		}), []string{`auth.tokens[1].name: "backstage-proxy" is the name of auth.tokens[0] too`}},
		{"token hashes are unique, whatever their case", with(func(c *auth.Config) {
			c.Tokens = append(c.Tokens, auth.TokenConfig{Name: "other", SHA256: strings.ToUpper(proxy.SHA256), Roles: proxy.Roles})
		}), []string{"auth.tokens[1].sha256: is the hash of auth.tokens[0] too"}},
		{"a short sha256 is refused", with(func(c *auth.Config) { c.Tokens[0].SHA256 = "abc123" }), []string{"auth.tokens[0].sha256: must be the SHA-256 of the token as 64 hex characters, not 6 characters"}},
		{"a non-hex sha256 is refused", with(func(c *auth.Config) { c.Tokens[0].SHA256 = strings.Repeat("g", 64) }), []string{"auth.tokens[0].sha256: must be the SHA-256 of the token as 64 hex characters (0-9, a-f)"}},
		{"a token needs a role", with(func(c *auth.Config) { c.Tokens[0].Roles = nil }), []string{"auth.tokens[0].roles: at least one role is required"}},
		{"token roles are known", with(func(c *auth.Config) { c.Tokens[0].Roles = []auth.Role{"root"} }), []string{`auth.tokens[0].roles: unknown role "root"`}},
		{"token teams may be group references of team namespaces, in any case", with(func(c *auth.Config) {
			c.TeamNamespaces = []string{"default", "platform"}
			c.Tokens[0].Teams = []string{"group:default/payments", "Payments", "group:platform/orders"}
		}), nil},
		{"token teams are team names or groups of team namespaces", with(func(c *auth.Config) {
			c.Tokens[0].Teams = []string{"group:sandbox/payments", "Team_Payments", "component:default/x"}
		}), []string{
			`auth.tokens[0].teams: "group:sandbox/payments" is in namespace "sandbox", which makes no teams: only groups and users of namespace default do`,
			`auth.tokens[0].teams: "Team_Payments" team "team_payments" must be a DNS-1123 label`,
			`auth.tokens[0].teams: "component:default/x" must refer to a group or a user, not a component`,
		}},
		{"team namespaces are namespaces", with(func(c *auth.Config) { c.TeamNamespaces = []string{"default", "not/a-namespace"} }),
			[]string{`auth.teamNamespaces: "not/a-namespace" is not a namespace`}},
		{"an empty list of team namespaces is refused", with(func(c *auth.Config) { c.TeamNamespaces = []string{} }),
			[]string{"auth.teamNamespaces: must list at least one namespace"}},
		{"the JWKS URL is absolute", with(func(c *auth.Config) { c.Backstage.JWKSURL = "/api/auth/.well-known/jwks.json" }), []string{"auth.backstage.jwksUrl"}},
		{"the JWKS URL is http or https", with(func(c *auth.Config) { c.Backstage.JWKSURL = "file:///etc/jwks.json" }), []string{"want an absolute http or https URL"}},
		{"the issuer is required", with(func(c *auth.Config) { c.Backstage.Issuer = "" }), []string{"auth.backstage.issuer: is required"}},
		{"the audience is required", with(func(c *auth.Config) { c.Backstage.Audience = "" }), []string{"auth.backstage.audience: is required"}},
		{"backstage roles are known", with(func(c *auth.Config) { c.Backstage.Roles = []auth.Role{"Viewer"} }), []string{`auth.backstage.roles: unknown role "Viewer"`}},
		{"approvers are user or group references", with(func(c *auth.Config) { c.Backstage.Approvers = []string{"component:default/x", "not a ref"} }),
			[]string{`auth.backstage.approvers: "component:default/x"`, `auth.backstage.approvers: "not a ref"`}},
		{"admins need a kind", with(func(c *auth.Config) { c.Backstage.Admins = []string{"alice"} }), []string{`auth.backstage.admins: "alice"`}},
		{"backstage settings without a JWKS URL are refused", with(func(c *auth.Config) { c.Backstage.JWKSURL = "" }), []string{"auth.backstage.jwksUrl: is required when"}},
		{"every problem is reported at once",
			auth.Config{Mode: "on", Tokens: []auth.TokenConfig{{SHA256: "x", Roles: []auth.Role{"boss"}}}},
			[]string{`auth.mode "on"`, "auth.tokens[0].name", "auth.tokens[0].sha256", `unknown role "boss"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.Len(t, strings.Split(err.Error(), "\n"), len(tt.want), "one line per problem:\n%s", err)
		})
	}
}

func TestConfigValidateNeverRepeatsTheSHA256Value(t *testing.T) {
	// Someone pasted the token itself where its hash belongs.
	for _, value := range []string{"s3cr3t-t0ken-that-is-not-a-hash", strings.Repeat("z", 64)} {
		cfg := auth.Config{Mode: auth.ModeRequired, Tokens: []auth.TokenConfig{{Name: "ci", SHA256: value, Roles: []auth.Role{auth.RoleViewer}}}}
		err := cfg.Validate()
		require.Error(t, err)
		require.NotContains(t, err.Error(), value[:8])
	}
}

func TestConfigReadsItsYAMLKeys(t *testing.T) {
	const doc = `
auth:
  mode: required
  tokens:
    - name: backstage-proxy
      sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08
      roles: [viewer]
      teams: []
  backstage:
    jwksUrl: http://backstage:7007/api/auth/.well-known/jwks.json
    issuer: http://backstage:7007/api/auth
    audience: backstage
    roles: [viewer, developer]
    approvers: [group:default/payments-leads, user:default/jane]
    admins: [user:default/alice]
  teamNamespaces: [default, platform]
`
	var file struct {
		Auth auth.Config `yaml:"auth"`
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&file))
	require.NoError(t, file.Auth.Validate())
	require.Equal(t, auth.Config{
		Mode: auth.ModeRequired,
		Tokens: []auth.TokenConfig{{
			Name:   "backstage-proxy",
			SHA256: "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
			Roles:  []auth.Role{auth.RoleViewer},
			Teams:  []string{},
		}},
		Backstage: auth.BackstageConfig{
			JWKSURL:   "http://backstage:7007/api/auth/.well-known/jwks.json",
			Issuer:    "http://backstage:7007/api/auth",
			Audience:  "backstage",
			Roles:     []auth.Role{auth.RoleViewer, auth.RoleDeveloper},
			Approvers: []string{"group:default/payments-leads", "user:default/jane"},
			Admins:    []string{"user:default/alice"},
		},
		TeamNamespaces: []string{"default", "platform"},
	}, file.Auth)
}
