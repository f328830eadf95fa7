package auth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/auth"
)

func TestPrincipalHas(t *testing.T) {
	tests := []struct {
		name string
		p    *auth.Principal
		role auth.Role
		want bool
	}{
		{"a listed role is held", &auth.Principal{Roles: []auth.Role{auth.RoleViewer}}, auth.RoleViewer, true},
		{"an unlisted role is not held", &auth.Principal{Roles: []auth.Role{auth.RoleViewer}}, auth.RoleDeveloper, false},
		{"admin implies developer", &auth.Principal{Roles: []auth.Role{auth.RoleAdmin}}, auth.RoleDeveloper, true},
		{"admin implies approver", &auth.Principal{Roles: []auth.Role{auth.RoleAdmin}}, auth.RoleApprover, true},
		{"approver does not imply admin", &auth.Principal{Roles: []auth.Role{auth.RoleApprover}}, auth.RoleAdmin, false},
		{"every role may read", &auth.Principal{Roles: []auth.Role{auth.RoleApprover}}, auth.RoleViewer, true},
		{"no role may not read", &auth.Principal{}, auth.RoleViewer, false},
		{"a nil principal holds nothing", nil, auth.RoleViewer, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.p.Has(tt.role))
		})
	}
}

func TestPrincipalInTeam(t *testing.T) {
	tests := []struct {
		name string
		p    *auth.Principal
		team string
		want bool
	}{
		{"a listed team", &auth.Principal{Teams: []string{"payments"}}, "payments", true},
		{"an unlisted team", &auth.Principal{Teams: []string{"payments"}}, "orders", false},
		{"all teams covers any team", &auth.Principal{AllTeams: true}, "orders", true},
		{"the empty team is nobody's", &auth.Principal{AllTeams: true, Teams: []string{""}}, "", false},
		{"a nil principal is in no team", nil, "payments", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.p.InTeam(tt.team))
		})
	}
}

func TestContextCarriesThePrincipal(t *testing.T) {
	_, ok := auth.FromContext(context.Background())
	require.False(t, ok, "an empty context has no principal")

	p := &auth.Principal{Name: "backstage-proxy"}
	got, ok := auth.FromContext(auth.NewContext(context.Background(), p))
	require.True(t, ok)
	require.Same(t, p, got)

	_, ok = auth.FromContext(auth.NewContext(context.Background(), nil))
	require.False(t, ok, "a nil principal is no principal")
}

func TestSamePrincipal(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"user:default/zed", "user:default/zed", true},
		{"user:default/Zed", "user:default/zed", true},
		{"User:Default/ZED", "user:default/zed", true},
		{"user:zed", "user:default/zed", true},
		{"user:default/zed", "user:sandbox/zed", false},
		{"user:default/zed", "user:default/zoe", false},
		{"user:default/zed", "group:default/zed", false},
		{"deploy-bot", "Deploy-Bot", true},
		{"deploy-bot", "deploy-bot-2", false},
		{"anonymous", "user:default/anonymous", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" and "+tt.b, func(t *testing.T) {
			require.Equal(t, tt.want, auth.SamePrincipal(tt.a, tt.b))
			require.Equal(t, tt.want, auth.SamePrincipal(tt.b, tt.a))
		})
	}
}
