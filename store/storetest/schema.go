package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// MigrationRecorder is implemented by the stores an engine's tests give
// Run, to prove that CheckSchema refuses a schema a newer Cairn migrated.
//
// RecordMigration records in the store's database, the way its migration
// runner records a migration it applied, that the migration of this
// version and name was applied, without applying anything: as a newer
// Cairn that knew more migrations would have left it.
type MigrationRecorder interface {
	RecordMigration(t *testing.T, version int, name string)
}

func testCheckSchemaOfNewDatabase(t *testing.T, s store.Store) {
	err := s.CheckSchema(t.Context())
	require.ErrorIs(t, err, store.ErrSchemaOutdated)
	require.NotErrorIs(t, err, store.ErrSchemaNewer)
	require.NotErrorIs(t, err, store.ErrUnavailable)
	require.ErrorContains(t, err, "cairn migrate")
	// Checking left the database as it was: still new.
	require.ErrorIs(t, s.CheckSchema(t.Context()), store.ErrSchemaOutdated)

	require.NoError(t, s.Migrate(t.Context()))
	require.NoError(t, s.CheckSchema(t.Context()))
}

func testCheckSchemaOfNewerSchema(t *testing.T, s store.Store) {
	recorder, ok := s.(MigrationRecorder)
	require.True(t, ok, "%T does not implement storetest.MigrationRecorder", s)
	require.NoError(t, s.CheckSchema(t.Context()))

	recorder.RecordMigration(t, 9999, "from_the_future")

	err := s.CheckSchema(t.Context())
	require.ErrorIs(t, err, store.ErrSchemaNewer)
	require.NotErrorIs(t, err, store.ErrSchemaOutdated)
	require.NotErrorIs(t, err, store.ErrUnavailable)
	require.ErrorContains(t, err, "9999_from_the_future")
}
