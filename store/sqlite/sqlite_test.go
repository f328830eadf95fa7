package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
	"github.com/cairn-dev/cairn/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		path := filepath.Join(t.TempDir(), "cairn.db")
		return conformanceStore{Store: open(t, path), path: path}
	})
}

// conformanceStore is a store the conformance suite can make fail half way
// through a write, or look migrated by a newer Cairn.
type conformanceStore struct {
	*sqlite.Store
	path string
}

// FailTagWrites implements storetest.TagWriteFailer with a trigger.
func (s conformanceStore) FailTagWrites(t *testing.T) {
	_, err := rawDB(t, s.path).ExecContext(t.Context(), `
		CREATE TRIGGER fail_tag_writes BEFORE INSERT ON service_tags
		BEGIN SELECT RAISE(ABORT, '`+storetest.TagWriteFailure+`'); END`)
	require.NoError(t, err)
}

// RecordMigration implements storetest.MigrationRecorder.
func (s conformanceStore) RecordMigration(t *testing.T, version int, name string) {
	_, err := rawDB(t, s.path).ExecContext(t.Context(),
		`INSERT INTO cairn_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		version, name, time.Now().UnixMicro())
	require.NoError(t, err)
}

// OutageStore implements storetest.Outager: another connection holds the
// write lock, as another process writing would, past the busy timeout of
// the store it returns.
func (s conformanceStore) OutageStore(t *testing.T) (store.Store, func() (end func())) {
	other, err := sqlite.OpenWithBusyTimeout(t.Context(), s.path, 50*time.Millisecond)
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	return other, func() func() {
		conn, err := rawDB(t, s.path).Conn(t.Context())
		require.NoError(t, err)
		_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE")
		require.NoError(t, err)
		return func() {
			_, err := conn.ExecContext(t.Context(), "ROLLBACK")
			require.NoError(t, err)
			require.NoError(t, conn.Close())
		}
	}
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	s := openMigrated(t, path)
	svc := &store.Service{Name: "orders", Team: "payments"}
	stored, _, err := s.UpsertService(t.Context(), svc, "")
	require.NoError(t, err)
	applied := appliedMigrations(t, path)
	require.NotEmpty(t, applied)

	require.NoError(t, s.Migrate(t.Context()))

	require.Equal(t, applied, appliedMigrations(t, path))
	got, err := s.GetService(t.Context(), "orders")
	require.NoError(t, err)
	require.Equal(t, stored, got)
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	s := openMigrated(t, path)
	stored, _, err := s.UpsertService(t.Context(), &store.Service{Name: "orders", Tags: []string{"go"}}, "")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	reopened := openMigrated(t, path)
	got, err := reopened.GetService(t.Context(), "orders")
	require.NoError(t, err)
	require.Equal(t, stored, got)
	listed, err := reopened.ListServices(t.Context(), store.ServiceFilter{Tag: "go"}, "", 10)
	require.NoError(t, err)
	require.Equal(t, []*store.Service{stored}, listed)
}

func TestOpenUsesWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	openMigrated(t, path)

	var mode string
	require.NoError(t, rawDB(t, path).QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode))
	require.Equal(t, "wal", mode)
}

func TestDeleteRemovesTagRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	s := openMigrated(t, path)
	_, _, err := s.UpsertService(t.Context(), &store.Service{Name: "orders", Tags: []string{"go", "grpc"}}, "")
	require.NoError(t, err)
	require.NoError(t, s.DeleteService(t.Context(), "orders", ""))

	var tagRows int
	require.NoError(t, rawDB(t, path).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM service_tags`).Scan(&tagRows))
	require.Zero(t, tagRows, "tag rows outlive their service: are foreign keys on?")
}

func TestOpenEscapesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my catalog?v=1#main.db")
	openMigrated(t, path)

	_, err := os.Stat(path)
	require.NoError(t, err, "the database file is not at the path given")
}

func TestOpenFailsOnUnusablePath(t *testing.T) {
	_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing-dir", "cairn.db"))
	require.Error(t, err)
}

func TestPingAfterCloseIsUnavailable(t *testing.T) {
	s := openMigrated(t, filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, s.Close())

	require.ErrorIs(t, s.Ping(t.Context()), store.ErrUnavailable)
}

// open opens the database at path, closing it when the test ends.
func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// openMigrated opens and migrates the database at path, closing it when the
// test ends.
func openMigrated(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s := open(t, path)
	require.NoError(t, s.Migrate(t.Context()))
	return s
}

// appliedMigration is a row of the migration runner's table.
type appliedMigration struct {
	Version   int
	Name      string
	AppliedAt int64
}

// appliedMigrations reads the migration runner's table.
func appliedMigrations(t *testing.T, path string) []appliedMigration {
	t.Helper()
	rows, err := rawDB(t, path).QueryContext(t.Context(), `SELECT version, name, applied_at FROM cairn_schema_migrations ORDER BY version`)
	require.NoError(t, err)
	defer rows.Close()
	var applied []appliedMigration
	for rows.Next() {
		var m appliedMigration
		require.NoError(t, rows.Scan(&m.Version, &m.Name, &m.AppliedAt))
		applied = append(applied, m)
	}
	require.NoError(t, rows.Err())
	return applied
}

// rawDB opens the database at path around the store, to look at what it
// wrote, closing it when the test ends.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}
