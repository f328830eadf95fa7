package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// testListChanges: successful deployments to the environments asked for,
// and approved promotions that no listed deployment shipped, in time
// order; failed deployments, pending and denied promotions, other
// environments, other services and times outside the period are left out.
func testListChanges(t *testing.T, s store.Store) {
	provision(t, s, fullProvisioning("orders"))
	ctx := t.Context()

	recordDeployment(t, s, deployment("v1", at(9, 0)))
	failed := deployment("v2", at(10, 0))
	failed.Status = store.DeploymentFailed
	recordDeployment(t, s, failed)
	staging := deployment("v3", at(11, 0))
	staging.Environment = "staging"
	recordDeployment(t, s, staging)
	other := deployment("v1", at(12, 0))
	other.Service = "cart"
	recordDeployment(t, s, other)
	recordDeployment(t, s, deployment("v9", at(24, 0))) // the next day: outside

	promote := func(revision, state string, decided time.Time) store.Promotion {
		t.Helper()
		p := promotionRequest("orders", "")
		p.Revision, p.Environment = revision, "production"
		stored, _, err := s.CreatePromotion(ctx, p)
		require.NoError(t, err)
		if state != "pending" {
			stored, err = s.DecidePromotion(ctx, "orders", stored.ID, state, "user:default/bob", "", decided)
			require.NoError(t, err)
		}
		return stored
	}
	promote("v1", "approved", at(8, 30)) // shipped by the v1 deployment: one change
	approved := promote("v4", "approved", at(13, 0))
	promote("v5", "denied", at(14, 0))
	promote("v6", "pending", time.Time{})

	got, err := s.ListChanges(ctx, []string{"orders"}, []string{"production"}, metricsDay, metricsDay.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []store.Change{
		{Service: "orders", Kind: store.ChangeDeployment, Environment: "production", Revision: "v1", Time: at(9, 0)},
		{Service: "orders", Kind: store.ChangePromotion, Environment: "production", Revision: "v4", Time: at(13, 0), PromotionID: approved.ID},
	}, got)

	days, err := s.CountChangeDays(ctx, []string{"orders", "cart"}, []string{"production"}, metricsDay, metricsDay.Add(48*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []store.ChangeDay{
		{Service: "cart", Day: metricsDay, Changes: 1},
		{Service: "orders", Day: metricsDay, Changes: 2},
		{Service: "orders", Day: metricsDay.Add(24 * time.Hour), Changes: 1},
	}, days)

	none, err := s.ListChanges(ctx, nil, []string{"production"}, metricsDay, metricsDay.Add(24*time.Hour))
	require.NoError(t, err)
	require.Empty(t, none)
	none, err = s.ListChanges(ctx, []string{"orders"}, nil, metricsDay, metricsDay.Add(24*time.Hour))
	require.NoError(t, err)
	require.Empty(t, none)
}
