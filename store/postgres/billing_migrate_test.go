package postgres

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/storetest"
)

// A Cairn that kept billing in 0004's tables upgrades to 0007's with its
// billing moved: every read answers as it did, and a re-import replaces the
// months moved.
func TestMigrationMovesBillingImportedBefore(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, pgtest.Shared(t).NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, sqlstore.MigrateBefore(ctx, s.Store, 7))
	_, err = s.d.pool.Exec(ctx, `
		INSERT INTO billing_imports (source, month, imported_at) VALUES
			('aws', '2031-01', '2031-01-01T00:00:00Z'), ('aws', '2031-02', '2031-02-01T00:00:00Z'),
			('gcp', '2031-01', '2031-03-01T00:00:00Z');
		INSERT INTO billing_rows (source, month, charge_period_start, charge_period_end, charge_category, service,
		                          resource_id, service_name, service_category, currency, billed_cost, effective_cost, list_cost) VALUES
			('aws', '2031-01', '2031-01-03T09:00:00Z', '2031-01-03T10:00:00Z', 'Usage', 'orders', 'db', 'Amazon RDS', 'Databases', 'EUR', 1, 100, 2),
			('aws', '2031-01', '2031-01-03T23:00:00Z', '2031-01-04T00:00:00Z', 'Usage', 'orders', 'db', 'Amazon RDS', 'Databases', 'EUR', 1, 200, 2),
			('aws', '2031-01', '2031-01-04T00:00:00Z', '2031-01-04T01:00:00Z', 'Usage', 'orders', 'bucket', 'Amazon S3', 'Storage', 'EUR', 1, 30, 2),
			('aws', '2031-01', '2031-01-05T00:00:00Z', '2031-01-05T01:00:00Z', 'Usage', '', 'nat', 'Amazon VPC', 'Networking', 'EUR', 1, 50, 2),
			('aws', '2031-02', '2031-02-01T00:00:00Z', '2031-02-01T01:00:00Z', 'Usage', 'orders', 'db', 'Amazon RDS', 'Databases', 'EUR', 1, 400, 2),
			('gcp', '2031-01', '2031-01-03T00:00:00Z', '2031-01-03T01:00:00Z', 'Usage', 'orders', 'sql', 'Cloud SQL', 'Databases', 'EUR', 1, 600, 2)`)
	require.NoError(t, err)

	require.NoError(t, s.Migrate(ctx))
	storetest.RequireBillingMoved(t, s)
}
