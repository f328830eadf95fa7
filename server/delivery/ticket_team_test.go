package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
)

func TestATicketsTeamMustBeOfATeamNamespace(t *testing.T) {
	now := time.Now()
	times := eventTimes{now: now, window: DefaultEventWindow}
	ticket := func(team string) store.SupportTicket {
		return store.SupportTicket{ID: "T-1", Category: "ci", Team: team, OpenedAt: now}
	}
	require.NoError(t, checkSupportTicket(ticket("group:default/Team-B"), times, entityref.Teams{}))

	var apiErr *apierr.Error
	require.ErrorAs(t, checkSupportTicket(ticket("group:sandbox/team-b"), times, entityref.Teams{}), &apiErr)
	require.Equal(t, "team", apiErr.Violations[0].Field)

	sandbox, err := entityref.NewTeams([]string{"default", "sandbox"})
	require.NoError(t, err)
	require.NoError(t, checkSupportTicket(ticket("group:sandbox/team-b"), times, sandbox))
}
