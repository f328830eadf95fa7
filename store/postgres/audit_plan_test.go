package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// The audit log grows for good: listing it must never read it all. A
// principal or target filter reads its index; other listings walk the
// primary key down from the cursor and stop at the limit. PostgreSQL plans
// each call with its arguments, and by cost: the log here is big enough,
// and analyzed, for the plans to be those of a real one.
func TestListAuditEventsWalksAnIndexInIDOrder(t *testing.T) {
	s, err := Open(t.Context(), pgtest.Shared(t).NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(t.Context()))
	_, err = s.d.pool.Exec(t.Context(), `
		INSERT INTO audit_events (time, principal, action, target, request_id, outcome, code)
		SELECT now() - make_interval(secs => 50000 - n), 'user:default/u' || n % 200, 'cairn.v1.CatalogService/M' || n % 10,
		       'services/s' || n % 1000, 'req-' || n, CASE WHEN n % 50 = 0 THEN 'denied' ELSE 'succeeded' END, 'OK'
		FROM generate_series(1, 50000) AS n;
		ANALYZE audit_events`)
	require.NoError(t, err)
	db := &recordingDB{DBTX: s.d.pool}
	s.d.q = dbsqlc.New(db)

	const walk = "Index Scan Backward using audit_events_pkey on audit_events"
	for _, tc := range []struct {
		name   string
		filter store.AuditFilter
		reads  string
	}{
		{"NoFilter", store.AuditFilter{}, walk},
		{"ByPrincipal", store.AuditFilter{Principal: "user:default/u7"}, "audit_events_principal"},
		{"ByTarget", store.AuditFilter{Target: "services/s42"}, "audit_events_target"},
		{"ByTargetAndOutcome", store.AuditFilter{Target: "services/s42", Outcome: "denied"}, "audit_events_target"},
		{"ByAction", store.AuditFilter{Action: "cairn.v1.CatalogService/M3"}, walk},
		{"ByRecentTime", store.AuditFilter{Start: time.Now().Add(-time.Hour)}, walk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ListAuditEvents(t.Context(), tc.filter, 40000, 50)
			require.NoError(t, err)
			plan := queryPlan(t, s, db.query, db.args)
			require.Contains(t, plan, tc.reads)
			require.NotContains(t, plan, "Seq Scan")
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

func (r *recordingDB) Query(ctx context.Context, query string, args ...any) (pgx.Rows, error) {
	r.query, r.args = query, args
	return r.DBTX.Query(ctx, query, args...)
}

// queryPlan is PostgreSQL's plan of query with args, as EXPLAIN writes it.
func queryPlan(t *testing.T, s *Store, query string, args []any) string {
	t.Helper()
	rows, err := s.d.pool.Query(t.Context(), "EXPLAIN (COSTS OFF) "+query, args...)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return strings.Join(lines, "\n")
}
