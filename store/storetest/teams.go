package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func testListTeamsCounts(t *testing.T, s store.Store) {
	for _, svc := range []*store.Service{
		{Name: "cart", Team: "payments", GoldenPath: true},
		{Name: "invoices", Team: "payments"},
		{Name: "ledger", Team: "payments", GoldenPath: true},
		{Name: "search", Team: "discovery"},
		{Name: "suggest", Team: "discovery", GoldenPath: true},
		{Name: "deploy-bot", Team: "platform"},
	} {
		upsert(t, s, svc)
	}

	teams, err := s.ListTeams(t.Context(), "", 100)
	require.NoError(t, err)
	require.Equal(t, []store.Team{
		{Name: "discovery", ServiceCount: 2, GoldenPathServiceCount: 1},
		{Name: "payments", ServiceCount: 3, GoldenPathServiceCount: 2},
		{Name: "platform", ServiceCount: 1, GoldenPathServiceCount: 0},
	}, teams)
}

func testListTeamsPagination(t *testing.T, s store.Store) {
	const total, pageSize = 5, 2
	var want []store.Team
	for i := range total {
		team := fmt.Sprintf("team-%d", i)
		// Two services each, so that a page of teams is not a page of services.
		upsert(t, s, &store.Service{Name: team + "-api", Team: team, GoldenPath: true})
		upsert(t, s, &store.Service{Name: team + "-worker", Team: team})
		want = append(want, store.Team{Name: team, ServiceCount: 2, GoldenPathServiceCount: 1})
	}

	var got []store.Team
	var pageSizes []int
	for after := ""; ; {
		page, err := s.ListTeams(t.Context(), after, pageSize)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.Less(t, len(pageSizes), total, "listing does not end")
		pageSizes = append(pageSizes, len(page))
		got = append(got, page...)
		after = page[len(page)-1].Name
	}
	require.Equal(t, []int{2, 2, 1}, pageSizes)
	require.Equal(t, want, got)
}

func testListTeamsWithoutTeam(t *testing.T, s store.Store) {
	upsert(t, s, &store.Service{Name: "legacy-admin"})
	upsert(t, s, &store.Service{Name: "cart", Team: "payments"})

	teams, err := s.ListTeams(t.Context(), "", 100)
	require.NoError(t, err)
	require.Equal(t, []store.Team{{Name: "payments", ServiceCount: 1}}, teams)
}

func testListTeamsByteOrder(t *testing.T, s store.Store) {
	for _, i := range rand.Perm(len(byteOrdered)) {
		upsert(t, s, &store.Service{Name: fmt.Sprintf("svc-%d", i), Team: byteOrdered[i]})
	}

	require.Equal(t, byteOrdered, teamNames(t, s, ""))
	require.Equal(t, byteOrdered[2:], teamNames(t, s, "a"), "after a")
}

// teamNames lists the names of all the teams after `after`.
func teamNames(t *testing.T, s store.Store, after string) []string {
	t.Helper()
	teams, err := s.ListTeams(t.Context(), after, 1000)
	require.NoError(t, err)
	var out []string
	for _, team := range teams {
		out = append(out, team.Name)
	}
	return out
}
