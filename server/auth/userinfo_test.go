package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/auth/authtest"
)

func TestTeamsOfATokenWithoutEntComeFromBackstagesUserInfo(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a := newAuthenticator(t, userConfig(iss))
	ctx := context.Background()
	iss.SetOwnership("user:default/jane", []string{"user:default/jane", "group:default/Payments", "group:sandbox/orders", "group:default/payments-leads"})

	token := iss.TokenWithoutEnt(t, "user:default/Jane", time.Hour)
	p, err := a.Authenticate(ctx, "Bearer "+token)
	require.NoError(t, err)
	require.Equal(t, "user:default/jane", p.Name)
	require.Equal(t, []string{"payments", "payments-leads"}, p.Teams, "groups of namespace default only")
	require.True(t, p.Has(auth.RoleApprover), "approver groups come from user info too")
	require.Equal(t, 1, iss.UserInfoFetches())

	_, err = a.Authenticate(ctx, "Bearer "+token)
	require.NoError(t, err)
	require.Equal(t, 1, iss.UserInfoFetches(), "cached for the token")

	_, err = a.Authenticate(ctx, "Bearer "+iss.TokenWithoutEnt(t, "user:default/jane", 2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, iss.UserInfoFetches(), "another token is looked up again")

	_, err = a.Authenticate(ctx, "Bearer "+iss.Token(t, "user:default/jane", []string{"group:default/orders"}, time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, iss.UserInfoFetches(), "a token carrying ent needs no lookup")
}

func TestAUserInfoOutageFailsClosed(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a := newAuthenticator(t, userConfig(iss))
	iss.SetOwnership("user:default/jane", []string{"group:default/payments"})
	iss.SetUserInfoDown(true)

	token := iss.TokenWithoutEnt(t, "user:default/jane", time.Hour)
	p, err := a.Authenticate(context.Background(), "Bearer "+token)
	require.Nil(t, p)
	requireRefused(t, err, auth.ErrUnavailable, "Backstage user info could not be fetched")

	iss.SetUserInfoDown(false)
	p, err = a.Authenticate(context.Background(), "Bearer "+token)
	require.NoError(t, err, "a failure is not cached")
	require.Equal(t, []string{"payments"}, p.Teams)
}

func TestUserInfoIsNotAskedWithoutTime(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a := newAuthenticator(t, userConfig(iss))
	token := iss.TokenWithoutEnt(t, "user:default/jane", time.Hour)
	_, err := a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "user:default/bob", nil, time.Hour)) // fetches the keys
	require.NoError(t, err)
	before := iss.UserInfoFetches()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.Authenticate(cancelled, "Bearer "+token)
	require.ErrorIs(t, err, auth.ErrUnavailable)
	require.Equal(t, before, iss.UserInfoFetches())
}

func TestUserInfoForAnotherUserIsRefused(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := userConfig(iss)
	// A user info endpoint that answers for someone else.
	other := authtest.NewIssuer(t)
	cfg.Backstage.UserInfoURL = other.URL + "/v1/userinfo"
	a := newAuthenticator(t, cfg)
	_, err := a.Authenticate(context.Background(), "Bearer "+iss.TokenWithoutEnt(t, "user:default/jane", time.Hour))
	requireRefused(t, err, auth.ErrInvalidCredentials, "Backstage user info refused the token")
}
