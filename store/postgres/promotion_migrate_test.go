package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/storetest"
)

// A Cairn whose promotions were all to production upgrades to 0010's with
// each of them to production, none a rollback.
func TestMigrationNamesProductionTheEnvironmentOfEarlierPromotions(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, pgtest.Shared(t).NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, sqlstore.MigrateBefore(ctx, s.Store, 10))
	require.ErrorContains(t, s.CheckSchema(ctx), "migrations not applied: 0010_promotion_environment")
	at := func(hour int) time.Time { return time.Date(2031, 5, 14, hour, 0, 0, 0, time.UTC) }
	_, err = s.d.pool.Exec(ctx, `
		INSERT INTO provisionings (service, request_id, requester, spec, generation, applied_generation, create_time, update_time, ready_time)
		VALUES ('cart', 'req-1', 'ci-b', '{"owner":"group:default/team-b","team":"team-b","environments":["staging"]}', 1, 0, now(), now(), NULL)`)
	require.NoError(t, err)
	_, err = s.d.pool.Exec(ctx, `
		INSERT INTO promotions (service, request_id, revision, state, requester, decider, reason, create_time, decide_time) VALUES
			('cart', 'req-q', 'v0', 'approved', 'ci-b', 'user:default/bob', 'Fine.', $1, $2),
			('cart', 'req-p', 'v1', 'pending', 'ci-b', '', '', $3, NULL)`, at(7), at(8), at(9))
	require.NoError(t, err)

	require.NoError(t, s.Migrate(ctx))
	storetest.RequirePromotionsToProduction(t, s)
}
