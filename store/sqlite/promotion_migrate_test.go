package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/storetest"
)

// A Cairn whose promotions were all to production upgrades to 0010's with
// each of them to production, none a rollback.
func TestMigrationNamesProductionTheEnvironmentOfEarlierPromotions(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, sqlstore.MigrateBefore(ctx, s.Store, 10))
	require.ErrorContains(t, s.CheckSchema(ctx), "migrations not applied: 0010_promotion_environment")
	at := func(hour int) int64 { return time.Date(2031, 5, 14, hour, 0, 0, 0, time.UTC).UnixMicro() }
	_, err = s.d.db.ExecContext(ctx, `
		INSERT INTO provisionings (service, request_id, requester, spec, generation, applied_generation, create_time, update_time, ready_time)
		VALUES ('cart', 'req-1', 'ci-b', '{"owner":"group:default/team-b","team":"team-b","environments":["staging"]}', 1, 0, 1, 1, NULL);
		INSERT INTO promotions (service, request_id, revision, state, requester, decider, reason, create_time, decide_time) VALUES
			('cart', 'req-q', 'v0', 'approved', 'ci-b', 'user:default/bob', 'Fine.', ?, ?),
			('cart', 'req-p', 'v1', 'pending', 'ci-b', '', '', ?, NULL)`, at(7), at(8), at(9))
	require.NoError(t, err)

	require.NoError(t, s.Migrate(ctx))
	storetest.RequirePromotionsToProduction(t, s)
}
