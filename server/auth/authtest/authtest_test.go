package authtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/auth/authtest"
)

func TestIssuerTokensAuthenticate(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a, err := auth.NewAuthenticator(context.Background(), auth.Config{Mode: auth.ModeRequired, Backstage: iss.Config(authtest.Audience)}, nil)
	require.NoError(t, err)

	p, err := a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "user:default/jane", []string{"group:default/payments"}, time.Hour))
	require.NoError(t, err)
	require.Equal(t, &auth.Principal{Name: "user:default/jane", Roles: auth.DefaultBackstageRoles, Teams: []string{"payments"}}, p)

	_, err = a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "user:default/jane", nil, -time.Hour))
	require.ErrorIs(t, err, auth.ErrInvalidCredentials, "a negative ttl makes an expired token")
	require.Equal(t, 1, iss.Fetches())
}

func TestIssuerConfigForAnotherAudienceRefusesItsTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a, err := auth.NewAuthenticator(context.Background(), auth.Config{Mode: auth.ModeRequired, Backstage: iss.Config("other")}, nil)
	require.NoError(t, err)
	_, err = a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "user:default/jane", nil, time.Hour))
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
}
