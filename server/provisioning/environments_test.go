package provisioning

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

// threeStagePath is dev, then staging, then production.
func threeStagePath() manifest.Settings {
	s := manifest.DefaultSettings()
	s.Environments = []manifest.Environment{
		{Name: "dev"},
		{Name: "staging", Promotion: &manifest.Promotion{From: "dev"}},
		{Name: "production", Sync: manifest.SyncPromotion, Promotion: &manifest.Promotion{From: "staging", Approval: true}},
	}
	return s
}

func createRequest(environments ...string) Request {
	return Request{Name: "orders-service", Owner: "team-orders", RepositoryURL: "https://git.example/orders-service.git",
		Environments: environments}
}

func TestSpecOfTakesTheEnvironmentsOfThePath(t *testing.T) {
	spec, err := SpecOf(createRequest("production", "dev"), entityref.Teams{}, threeStagePath())
	require.NoError(t, err)
	require.Equal(t, []string{"production", "dev"}, spec.Environments)

	spec, err = SpecOf(createRequest(), entityref.Teams{}, threeStagePath())
	require.NoError(t, err)
	require.Equal(t, []string{"dev"}, spec.Environments, "none means the first of the path")
	spec, err = SpecOf(createRequest(), entityref.Teams{}, manifest.DefaultSettings())
	require.NoError(t, err)
	require.Equal(t, []string{"staging"}, spec.Environments, "the default path starts at staging, as before")
}

func TestSpecOfRefusesAnEnvironmentOffThePathNamingThePath(t *testing.T) {
	for _, tt := range []struct {
		settings manifest.Settings
		env      string
		want     string
	}{
		{threeStagePath(), "qa", `environment "qa" is not configured: want one of dev, staging, production`},
		{manifest.DefaultSettings(), "dev", `environment "dev" is not configured: want one of staging, production`},
	} {
		_, err := SpecOf(createRequest("staging", tt.env), entityref.Teams{}, tt.settings)
		var invalid *apierr.Error
		require.ErrorAs(t, err, &invalid)
		require.Equal(t, codes.InvalidArgument, invalid.Code)
		require.Equal(t, []apierr.FieldViolation{{Field: "environments", Description: tt.want}}, invalid.Violations)
	}
}
