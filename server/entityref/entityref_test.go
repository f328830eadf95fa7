package entityref

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTeam(t *testing.T) {
	tests := []struct {
		owner, team string
		ok          bool
	}{
		{"team-orders", "team-orders", true},
		{"group:team-orders", "team-orders", true},
		{"group:default/team-orders", "team-orders", true},
		{"Group:default/team-orders", "team-orders", true},
		{"user:default/jane", "jane", true},
		{"", "", false},
		{"api:default/orders", "", false},
		{"group:default/Team_Orders", "", false},
		{"group:default/", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.owner, func(t *testing.T) {
			team, err := Team(tt.owner)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.team, team)
		})
	}
}
