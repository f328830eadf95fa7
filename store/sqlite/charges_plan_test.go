package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// The drill-down reads a page by indexes: the services' deployments or
// incidents of the range, sorted (a range's rows of a few services, not the
// table), then each page's commits and incidents by their keys.
func TestDrillDownReadsByIndexes(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(t.Context()))
	noon := time.Date(2031, 3, 31, 12, 0, 0, 0, time.UTC)
	_, err = s.RecordDeployment(t.Context(), store.Deployment{Service: "orders", Environment: "production", Revision: "v1", Status: "succeeded", StartedAt: noon.Add(-time.Hour), FinishedAt: noon.Add(-time.Hour)})
	require.NoError(t, err)
	_, err = s.RecordIncident(t.Context(), store.Incident{ID: "I", Service: "orders", OpenedAt: noon})
	require.NoError(t, err)
	db := &queryLog{DBTX: s.d.db}
	s.d.q = dbsqlc.New(db)
	_, err = s.ListDeployments(t.Context(), store.DeploymentQuery{Services: []string{"orders", "cart"}, FinishedFrom: noon.AddDate(0, 0, -30), FinishedTo: noon, Limit: 51})
	require.NoError(t, err)
	_, err = s.ListIncidents(t.Context(), store.IncidentQuery{Services: []string{"orders", "cart"}, OpenedFrom: noon.AddDate(0, 0, -30), OpenedTo: noon.Add(time.Hour), Limit: 51})
	require.NoError(t, err)
	var plans [][]string
	for _, q := range db.queries {
		plans = append(plans, queryPlan(t, s.d.db, q.query, q.args))
	}
	const services = "SCAN json_each VIRTUAL TABLE INDEX 1:"
	require.Equal(t, [][]string{
		{"SEARCH deployments USING INDEX deployments_finished (service=? AND finished_at>? AND finished_at<?)", "LIST SUBQUERY 1", services, "USE TEMP B-TREE FOR ORDER BY"},
		{"SEARCH deployment_commits USING PRIMARY KEY (deployment_id=?)", "USE TEMP B-TREE FOR LAST 2 TERMS OF ORDER BY"},
		{"SEARCH incidents USING INDEX incidents_charged (charged_deployment_id=?)", "USE TEMP B-TREE FOR ORDER BY"},
		{"SEARCH incidents USING INDEX incidents_cause (service=? AND cause_revision=?)"},
		{"SEARCH incidents USING INDEX incidents_opened (service=? AND opened_at>? AND opened_at<?)", "LIST SUBQUERY 1", services, "USE TEMP B-TREE FOR ORDER BY"},
	}, plans)
}
