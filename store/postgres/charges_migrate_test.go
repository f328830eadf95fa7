package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/storetest"
)

// A Cairn whose incidents named revisions, or none, upgrades to 0013's
// charges with the figures it counted.
func TestMigrationChargesEarlierIncidentsAsTheyWereCounted(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, pgtest.Shared(t).NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, sqlstore.MigrateBefore(ctx, s.Store, 13))
	require.ErrorContains(t, s.CheckSchema(ctx), "migrations not applied: 0013_incident_charges")
	day := time.Date(2031, 5, 14, 0, 0, 0, 0, time.UTC)
	at := func(hour int) time.Time { return day.Add(time.Duration(hour) * time.Hour) }
	_, err = s.d.pool.Exec(ctx, `
		INSERT INTO deployments (service, environment, revision, status, started_at, finished_at, caused_incident, recorded_at) VALUES
			('orders', 'production', 'v1', 'succeeded', $1, $1, true, $1),
			('orders', 'production', 'v2', 'succeeded', $2, $2, false, $2)`, at(10), at(12))
	require.NoError(t, err)
	_, err = s.d.pool.Exec(ctx, `
		INSERT INTO deployment_days (service, environment, day, succeeded, failed, incident_causing, lead_times)
			VALUES ('orders', 'production', $1, 2, 0, 1, '')`, day)
	require.NoError(t, err)
	_, err = s.d.pool.Exec(ctx, `
		INSERT INTO incidents (service, id, opened_at, resolved_at, cause_revision, recorded_at) VALUES
			('orders', 'INC-1', $1, NULL, 'v1', $1),
			('orders', 'INC-2', $2, NULL, '', $2)`, at(11), at(13))
	require.NoError(t, err)

	require.NoError(t, s.Migrate(ctx))
	storetest.RequireIncidentChargesMigrated(t, s)
}
