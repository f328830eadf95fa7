package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// The audit log grows for good: listing it must never read it all. Each
// listing walks an index in id order, down from its cursor, and stops at its
// limit, without sorting: a principal or target filter's index, else the
// primary key.
func TestListAuditEventsWalksAnIndexInIDOrder(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(t.Context()))
	db := &recordingDB{DBTX: s.d.db}
	s.d.q = dbsqlc.New(db)

	const (
		primaryKey = "SEARCH audit_events USING INTEGER PRIMARY KEY (rowid<?)"
		principal  = "SEARCH audit_events USING INDEX audit_events_principal (principal=? AND id<?)"
		target     = "SEARCH audit_events USING INDEX audit_events_target (target=? AND id<?)"
	)
	for _, tc := range []struct {
		name   string
		filter store.AuditFilter
		plan   string
	}{
		{"NoFilter", store.AuditFilter{}, primaryKey},
		{"ByPrincipal", store.AuditFilter{Principal: "user:default/jane"}, principal},
		{"ByTarget", store.AuditFilter{Target: "services/orders"}, target},
		{"ByPrincipalAndTarget", store.AuditFilter{Principal: "user:default/jane", Target: "services/orders"}, principal},
		{"ByTargetAndOutcome", store.AuditFilter{Target: "services/orders", Outcome: "denied"}, target},
		{"ByAction", store.AuditFilter{Action: "cairn.v1.CatalogService/DeleteService"}, primaryKey},
		{"ByOutcome", store.AuditFilter{Outcome: "denied"}, primaryKey},
		{"ByTime", store.AuditFilter{Start: time.Now().Add(-time.Hour), End: time.Now()}, primaryKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ListAuditEvents(t.Context(), tc.filter, 42, 50)
			require.NoError(t, err)
			require.Equal(t, []string{tc.plan}, queryPlan(t, s.d.db, db.query, db.args))
		})
	}
}

// recordingDB is a dbsqlc.DBTX that keeps the last query it ran and its
// arguments.
type recordingDB struct {
	dbsqlc.DBTX
	query string
	args  []any
}

func (r *recordingDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	r.query, r.args = query, args
	return r.DBTX.QueryContext(ctx, query, args...)
}

// queryPlan is the steps of SQLite's plan of query.
func queryPlan(t *testing.T, db *sql.DB, query string, args []any) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		steps = append(steps, detail)
	}
	require.NoError(t, rows.Err())
	return steps
}
