package entityref

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCanonicalFoldsCaseAndFillsTheDefaults(t *testing.T) {
	tests := []struct {
		ref, defaultKind, want string
		ok                     bool
	}{
		{"user:default/jane", "", "user:default/jane", true},
		{"User:Default/Jane", "", "user:default/jane", true},
		{"user:jane", "", "user:default/jane", true},
		{"default/jane", "", "", false},
		{"jane", "", "", false},
		{"jane", "group", "group:default/jane", true},
		{"Sandbox/Team-B", "Group", "group:sandbox/team-b", true},
		{"user:sandbox/jane", "group", "user:sandbox/jane", true},
		{"group:default/team_b.x", "", "group:default/team_b.x", true},
		{"", "group", "", false},
		{"group:default/", "", "", false},
		{"group:/team-b", "", "", false},
		{"group:default/team b", "", "", false},
		{"group:a/b/c", "", "", false},
		{"group:default/" + strings.Repeat("a", MaxLength), "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			r, ok := Canonical(tt.ref, tt.defaultKind)
			require.Equal(t, tt.ok, ok)
			if ok {
				require.Equal(t, tt.want, r.String())
				again, ok := Canonical(r.String(), "")
				require.True(t, ok)
				require.Equal(t, r, again, "the canonical form is its own canonical form")
			}
		})
	}
}

func TestOwnerMakesATeamOnlyInATeamNamespace(t *testing.T) {
	sandbox, err := NewTeams([]string{"default", "Sandbox"})
	require.NoError(t, err)
	onlySandbox, err := NewTeams([]string{"sandbox"})
	require.NoError(t, err)
	tests := []struct {
		name    string
		teams   Teams
		owner   string
		team    string
		wantErr string
	}{
		{"a bare team name", Teams{}, "team-orders", "team-orders", ""},
		{"a group without a namespace", Teams{}, "group:team-orders", "team-orders", ""},
		{"a group of namespace default", Teams{}, "group:default/team-orders", "team-orders", ""},
		{"the case of every part is folded", Teams{}, "Group:Default/Team-Orders", "team-orders", ""},
		{"a user may own services", Teams{}, "user:default/jane", "jane", ""},
		{"a group of another namespace makes no team", Teams{}, "group:sandbox/team-b",
			"", `is in namespace "sandbox", which makes no teams: only groups and users of namespace default do (auth.teamNamespaces)`},
		{"a user of another namespace makes no team", Teams{}, "user:sandbox/jane", "", `namespace "sandbox"`},
		{"a listed namespace makes teams", sandbox, "group:sandbox/team-b", "team-b", ""},
		{"so does namespace default beside it", sandbox, "group:default/team-b", "team-b", ""},
		{"default makes no team when unlisted", onlySandbox, "team-orders",
			"", `is in namespace "default", which makes no teams: only groups and users of namespace sandbox do`},
		{"the error lists every team namespace", sandbox, "group:other/x", "", "of namespace default, sandbox do"},
		{"empty", Teams{}, "", "", "is required"},
		{"another kind", Teams{}, "api:default/orders", "", "must refer to a group or a user, not a api"},
		{"not a reference", Teams{}, "group:default/", "", "must be a team name or an entity reference"},
		{"a name that cannot name a namespace", Teams{}, "group:default/Team_Orders", "", `team "team_orders" must be a DNS-1123 label`},
		{"a name too long for a namespace", Teams{}, "group:default/" + strings.Repeat("a", 64), "", "must be a DNS-1123 label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			team, err := tt.teams.Owner(tt.owner)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.team, team)
		})
	}
}

func TestGroupMakesATeamOfGroupsOnly(t *testing.T) {
	for _, tt := range []struct {
		ref  string
		team string
		ok   bool
	}{
		{"group:default/team-b", "team-b", true},
		{"group:sandbox/team-b", "", false},
		{"user:default/team-b", "", false},
		{"group:default/not_a_team", "", false},
	} {
		t.Run(tt.ref, func(t *testing.T) {
			r, ok := Canonical(tt.ref, "")
			require.True(t, ok)
			team, ok := Teams{}.Group(r)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.team, team)
		})
	}
}

func TestNewTeams(t *testing.T) {
	teams, err := NewTeams([]string{"Sandbox", "default", "sandbox"})
	require.NoError(t, err)
	require.Equal(t, []string{"default", "sandbox"}, teams.Namespaces())
	require.Equal(t, []string{"default"}, Teams{}.Namespaces(), "the zero Teams has namespace default")

	for _, bad := range [][]string{nil, {}, {""}, {"a/b"}, {"-x"}, {strings.Repeat("a", 64)}} {
		_, err := NewTeams(bad)
		require.Error(t, err, "%q", bad)
	}
}
