package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// The cost card reads a service's two months on every page load, and the
// daily series a team's days, however many rows were imported: each reads
// its sums' index alone, the card's in the order it answers in. A
// re-import deletes a month's rows by the month's index.
func TestBillingReadsAndDeletesWalkTheirIndexes(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(t.Context()))
	db := &recordingDB{DBTX: s.d.db}
	s.d.q = dbsqlc.New(db)

	_, err = s.ServiceBilling(t.Context(), "orders", "2031-01", "2030-12")
	require.NoError(t, err)
	require.Equal(t, []string{
		"SEARCH billing_resource_costs USING COVERING INDEX billing_resource_costs_service (service=? AND month=?)",
	}, queryPlan(t, s.d.db, db.query, db.args))

	from := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = s.DailyBilling(t.Context(), []string{"orders", "cart"}, from, from.AddDate(0, 1, 0))
	require.NoError(t, err)
	// Each day's sums name their month, whose currency they are in.
	require.Equal(t, []string{
		"SEARCH d USING INDEX billing_daily_costs_service (service=? AND day>? AND day<?)",
		"SEARCH m USING INTEGER PRIMARY KEY (rowid=?)",
		"USE TEMP B-TREE FOR GROUP BY",
	}, queryPlan(t, s.d.db, db.query, db.args))

	for table, index := range map[string]string{
		"billing_charges":        "billing_charges_month",
		"billing_resource_costs": "billing_resource_costs_month",
		"billing_daily_costs":    "billing_daily_costs_month",
	} {
		plan := queryPlan(t, s.d.db, "DELETE FROM "+table+" WHERE month_id = ?", []any{int64(1)})
		require.Len(t, plan, 1, table)
		require.Regexp(t, "^SEARCH "+table+" USING (COVERING )?INDEX "+index+` \(month_id=\?\)$`, plan[0])
	}
}
