package server

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/cost"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

func TestLedgerDoraBandsAreTheMetricsServicesBandsOfAService(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(t.Context()))
	_, _, err = st.UpsertService(t.Context(), &store.Service{Name: "orders-service", Owner: "group:default/team-orders", Team: "team-orders"}, "")
	require.NoError(t, err)
	// A successful production deployment a day for 30 days, each shipping
	// a commit made an hour before: elite frequency (30 in 30 days), elite
	// lead time (1 h), elite failure rate (none), no incident to restore.
	now := time.Now().UTC()
	for i := range 30 {
		finished := now.Add(-time.Duration(i)*24*time.Hour - time.Hour)
		_, err := st.RecordDeployment(t.Context(), store.Deployment{
			Service: "orders-service", Environment: "production", Revision: fmt.Sprintf("v%d", i), Status: store.DeploymentSucceeded,
			StartedAt: finished.Add(-time.Minute), FinishedAt: finished,
			Commits: []store.Commit{{SHA: fmt.Sprintf("%040d", i), CommittedAt: finished.Add(-time.Hour)}},
		})
		require.NoError(t, err)
	}
	bands := doraBands{events: delivery.New(st, nil, delivery.EventWindow{}, entityref.Teams{}, []string{"production"})}

	got, err := bands.ServiceBands(t.Context(), "orders-service")
	require.NoError(t, err)
	require.Equal(t, cost.ServiceBands{DeploymentFrequency: "elite", LeadTimeForChanges: "elite", ChangeFailureRate: "elite"}, got)

	_, err = bands.ServiceBands(t.Context(), "gone-service")
	require.ErrorIs(t, err, store.ErrNotFound)
}
