package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/storetest"
)

// A Cairn whose incident, ticket and request ids were global upgrades to
// 0009's scoped keys with every row carried over, and the names that
// deleted services left their history under retired.
func TestMigrationScopesIDsAndRetiresNamesDeletedBefore(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, pgtest.Shared(t).NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, sqlstore.MigrateBefore(ctx, s.Store, 9))
	at := func(hour int) time.Time { return time.Date(2031, 5, 14, hour, 0, 0, 0, time.UTC) }
	for _, insert := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO services (name, title, description, type, lifecycle, owner, team, system, golden_path, source_template,
		                       labels, annotations, tags, links, provides_apis, consumes_apis, depends_on, etag, create_time, update_time)
		  VALUES ('orders', '', '', 'service', 'production', 'group:default/team-a', 'team-a', '', false, '', '{}', '{}', '[]', '[]', '[]', '[]', '[]', 'e1', now(), now())`, nil},
		{`INSERT INTO incidents (id, service, opened_at, resolved_at, cause_revision, recorded_at) VALUES
			('INC-1', 'orders', $1, NULL, 'v1', now()), ('INC-2', 'deleted-with-history', $2, $3, '', now())`, []any{at(9), at(10), at(11)}},
		{`INSERT INTO support_tickets (id, category, team, opened_at, recorded_at) VALUES
			('SUP-1', 'ci', 'team-a', $1, now()), ('SUP-2', 'access', '', $2, now())`, []any{at(9), at(10)}},
		{`INSERT INTO provisionings (service, request_id, requester, spec, generation, applied_generation, create_time, update_time, ready_time)
		  VALUES ('cart', 'req-1', 'ci-b', '{"owner":"group:default/team-b","team":"team-b","environments":["staging"]}', 1, 0, now(), now(), NULL)`, nil},
		{`INSERT INTO promotions (service, request_id, revision, state, requester, decider, reason, create_time, decide_time)
		  VALUES ('cart', 'req-p', 'v1', 'pending', 'ci-b', '', '', now(), NULL)`, nil},
		{`INSERT INTO deployments (service, environment, revision, status, started_at, finished_at, caused_incident, recorded_at)
		  VALUES ('deleted-with-history', 'production', 'v1', 'succeeded', $1, $2, false, now())`, []any{at(7), at(8)}},
	} {
		_, err = s.d.pool.Exec(ctx, insert.sql, insert.args...)
		require.NoError(t, err, insert.sql)
	}

	require.NoError(t, s.Migrate(ctx))
	storetest.RequireIDsScopedAndNamesRetired(t, s)
}
