package provisioning

// Removing a service's database, on a real SQLite store and the in-memory
// cluster of fakes_test.go (see promotions_test.go).

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// twoRegions is staging, then two production-like environments that take
// promotions from it.
func twoRegions() manifest.Settings {
	s := manifest.DefaultSettings()
	s.Environments = []manifest.Environment{
		{Name: "staging"},
		{Name: "production-eu", Production: true, Promotion: &manifest.Promotion{From: "staging"}},
		{Name: "production-us", Production: true, Promotion: &manifest.Promotion{From: "staging"}},
	}
	return s
}

func TestRemovingTheDatabaseOfAServiceInAProductionLikeEnvironmentNeedsForceAndAnAdmin(t *testing.T) {
	unmarked := manifest.DefaultSettings()
	unmarked.Environments = []manifest.Environment{{Name: "dev"}, {Name: "production", Promotion: &manifest.Promotion{From: "dev"}}}
	tests := []struct {
		name         string
		settings     manifest.Settings
		environments []string
		// serves is what the refusal names; "" when anyone of the team
		// may remove the database.
		serves string
	}{
		{"the default path's production", manifest.DefaultSettings(), []string{"staging", "production"}, "production"},
		{"the default path's staging alone", manifest.DefaultSettings(), []string{"staging"}, ""},
		{"one production-like environment of two", twoRegions(), []string{"staging", "production-us"}, "production-us"},
		{"both production-like environments", twoRegions(), []string{"production-us", "staging", "production-eu"}, "production-eu, production-us"},
		{"staging of a path with two production-like environments", twoRegions(), []string{"staging"}, ""},
		{"an environment named production that the path does not mark", unmarked, []string{"dev", "production"}, ""},
	}
	developer := as("user:default/dev", auth.RoleDeveloper)
	admin := as("user:default/admin", auth.RoleAdmin)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessOf(t, tt.settings, Request{Database: "postgresql", Environments: tt.environments})
			if tt.serves == "" {
				require.NoError(t, h.p.RemoveResource(developer, "orders-service", resourceDatabase, false))
				h.requireDatabase(t, "")
				return
			}
			for _, refused := range []struct {
				ctx   context.Context
				force bool
			}{{developer, false}, {developer, true}, {admin, false}} {
				err := h.p.RemoveResource(refused.ctx, "orders-service", resourceDatabase, refused.force)
				e := requireRefused(t, err, codes.PermissionDenied, "PRODUCTION_DATABASE")
				require.Equal(t, "orders-service's database serves "+tt.serves+": removing it needs force=true and the admin role", e.Message)
				h.requireDatabase(t, "postgresql")
			}
			require.NoError(t, h.p.RemoveResource(admin, "orders-service", resourceDatabase, true))
			h.requireDatabase(t, "")
		})
	}
}

// requireDatabase fails unless orders-service's stored spec has database.
func (h *promotionHarness) requireDatabase(t *testing.T, database string) {
	t.Helper()
	prov, err := h.store.GetProvisioning(t.Context(), "orders-service")
	require.NoError(t, err)
	require.Equal(t, database, prov.Spec.Database)
}
