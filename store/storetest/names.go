package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// ofTeam is fullService(name) owned by team.
func ofTeam(name, team string) *store.Service {
	svc := fullService(name)
	svc.Owner, svc.Team = "group:default/"+team, team
	return svc
}

// provisioningOfTeam is fullProvisioning(service) owned by team.
func provisioningOfTeam(service, team string) store.Provisioning {
	p := fullProvisioning(service)
	p.Spec.Owner, p.Spec.Team = "group:default/"+team, team
	return p
}

func requireNameHeld(t *testing.T, err error, want store.NameHeldError) {
	t.Helper()
	var held *store.NameHeldError
	require.ErrorAs(t, err, &held)
	require.Equal(t, want, *held)
}

func testDeletedNameRefusedToAnotherTeam(t *testing.T, s store.Store) {
	upsert(t, s, ofTeam("orders", "payments"))
	require.NoError(t, s.DeleteService(t.Context(), "orders", ""))
	retired := store.NameHeldError{Name: "orders", Team: "payments", Retired: true}

	_, _, err := s.UpsertService(t.Context(), ofTeam("orders", "search"), "")
	requireNameHeld(t, err, retired)
	_, _, err = s.CreateProvisioning(t.Context(), provisioningOfTeam("orders", "search"), ofTeam("orders", "search"))
	requireNameHeld(t, err, retired)

	requireNotFound(t, s, "orders")
	requireNoProvisioning(t, s, "orders")
	_, _, err = s.UpsertService(t.Context(), ofTeam("orders", "search"), "")
	requireNameHeld(t, err, retired)
}

func testDeletedNameTakenBackByItsTeam(t *testing.T, s store.Store) {
	upsert(t, s, ofTeam("orders", "payments"))
	require.NoError(t, s.DeleteService(t.Context(), "orders", ""))
	_, created, err := s.UpsertService(t.Context(), ofTeam("orders", "payments"), "")
	require.NoError(t, err)
	require.True(t, created)

	// Taken back, the name is the team's as any service's is: a delete
	// retires it again, now under its latest team.
	upsert(t, s, ofTeam("orders", "search"))
	require.NoError(t, s.DeleteService(t.Context(), "orders", ""))
	_, _, err = s.UpsertService(t.Context(), ofTeam("orders", "payments"), "")
	requireNameHeld(t, err, store.NameHeldError{Name: "orders", Team: "search", Retired: true})

	// A create takes back its team's name too.
	stored, created, err := s.CreateProvisioning(t.Context(), provisioningOfTeam("orders", "search"), ofTeam("orders", "search"))
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "search", stored.Spec.Team)
	got, err := s.GetService(t.Context(), "orders")
	require.NoError(t, err)
	require.Equal(t, "search", got.Team)
}

func testReleaseRetiredName(t *testing.T, s store.Store) {
	require.ErrorIs(t, s.ReleaseRetiredName(t.Context(), "orders", "payments"), store.ErrNotFound)
	upsert(t, s, ofTeam("orders", "payments"))
	require.ErrorIs(t, s.ReleaseRetiredName(t.Context(), "orders", "payments"), store.ErrNotFound, "a name in the catalog is not retired")
	require.NoError(t, s.DeleteService(t.Context(), "orders", ""))

	require.ErrorIs(t, s.ReleaseRetiredName(t.Context(), "orders", "search"), store.ErrConflict, "retired by another team")
	require.NoError(t, s.ReleaseRetiredName(t.Context(), "orders", "payments"))

	_, created, err := s.UpsertService(t.Context(), ofTeam("orders", "search"), "")
	require.NoError(t, err)
	require.True(t, created)
}

func testCreateProvisioningOfAnotherTeamsService(t *testing.T, s store.Store) {
	registered := upsert(t, s, ofTeam("orders", "search"))

	_, _, err := s.CreateProvisioning(t.Context(), provisioningOfTeam("orders", "payments"), ofTeam("orders", "payments"))
	requireNameHeld(t, err, store.NameHeldError{Name: "orders", Team: "search"})

	requireNoProvisioning(t, s, "orders")
	requireStored(t, s, registered)
}
