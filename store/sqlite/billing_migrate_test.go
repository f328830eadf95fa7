package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/storetest"
)

// A Cairn that kept billing in 0004's tables upgrades to 0007's with its
// billing moved: every read answers as it did, and a re-import replaces the
// months moved.
func TestMigrationMovesBillingImportedBefore(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, sqlstore.MigrateBefore(ctx, s.Store, 7))
	at := func(month time.Month, day, hour int) int64 {
		return time.Date(2031, month, day, hour, 0, 0, 0, time.UTC).UnixMicro()
	}
	_, err = s.d.db.ExecContext(ctx, `INSERT INTO billing_imports (source, month, imported_at) VALUES
		('aws', '2031-01', ?), ('aws', '2031-02', ?), ('gcp', '2031-01', ?)`, at(1, 1, 0), at(2, 1, 0), at(3, 1, 0))
	require.NoError(t, err)
	_, err = s.d.db.ExecContext(ctx, `
		INSERT INTO billing_rows (source, month, charge_period_start, charge_period_end, charge_category, service,
		                          resource_id, service_name, service_category, currency, billed_cost, effective_cost, list_cost) VALUES
			('aws', '2031-01', ?, ?, 'Usage', 'orders', 'db', 'Amazon RDS', 'Databases', 'EUR', 1, 100, 2),
			('aws', '2031-01', ?, ?, 'Usage', 'orders', 'db', 'Amazon RDS', 'Databases', 'EUR', 1, 200, 2),
			('aws', '2031-01', ?, ?, 'Usage', 'orders', 'bucket', 'Amazon S3', 'Storage', 'EUR', 1, 30, 2),
			('aws', '2031-01', ?, ?, 'Usage', '', 'nat', 'Amazon VPC', 'Networking', 'EUR', 1, 50, 2),
			('aws', '2031-02', ?, ?, 'Usage', 'orders', 'db', 'Amazon RDS', 'Databases', 'EUR', 1, 400, 2),
			('gcp', '2031-01', ?, ?, 'Usage', 'orders', 'sql', 'Cloud SQL', 'Databases', 'EUR', 1, 600, 2)`,
		at(1, 3, 9), at(1, 3, 10), at(1, 3, 23), at(1, 4, 0), at(1, 4, 0), at(1, 4, 1), at(1, 5, 0), at(1, 5, 1),
		at(2, 1, 0), at(2, 1, 1), at(1, 3, 0), at(1, 3, 1))
	require.NoError(t, err)

	require.NoError(t, s.Migrate(ctx))
	storetest.RequireBillingMoved(t, s)
}
