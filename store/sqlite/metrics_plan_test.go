package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// A window's DORA facts are read from indexes alone (or the primary key of
// deployment_days, a WITHOUT ROWID table, and of deployment_commits), never
// by a scan of a table that grows with every deployment: the reads that
// make the benchmark's figures.
func TestDeliveryFactsReadIndexesAlone(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(t.Context()))
	db := &queryLog{DBTX: s.d.db}
	s.d.q = dbsqlc.New(db)

	noon := time.Date(2031, 3, 31, 12, 0, 0, 0, time.UTC)
	_, err = s.DeliveryFacts(t.Context(), []string{"orders", "cart"}, []string{"production-eu", "production-us"}, noon.AddDate(0, 0, -30), noon)
	require.NoError(t, err)

	var plans [][]string
	for _, q := range db.queries {
		plans = append(plans, queryPlan(t, s.d.db, q.query, q.args))
	}
	const (
		partDays  = "SEARCH deployments USING COVERING INDEX deployments_window (service=? AND environment=? AND finished_at>? AND finished_at<?)"
		byDaySort = "USE TEMP B-TREE FOR GROUP BY" // of one part-day's few rows
		commits   = "SEARCH deployment_commits USING PRIMARY KEY (deployment_id=?)"
	)
	require.Equal(t, [][]string{
		{"SEARCH deployment_days USING PRIMARY KEY (service=? AND environment=? AND day>? AND day<?)"},
		{partDays, byDaySort}, // the first part-day's deployments
		{partDays, commits},   // and lead times
		{partDays, byDaySort}, // the last part-day's
		{partDays, commits},
		{"SEARCH incidents USING COVERING INDEX incidents_resolved (service=? AND resolved_at>? AND resolved_at<?)"},
	}, plans)
}

// queryLog is a dbsqlc.DBTX that keeps every query it ran and its
// arguments.
type queryLog struct {
	dbsqlc.DBTX
	queries []loggedQuery
}

type loggedQuery struct {
	query string
	args  []any
}

func (l *queryLog) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	l.queries = append(l.queries, loggedQuery{query, args})
	return l.DBTX.QueryContext(ctx, query, args...)
}
