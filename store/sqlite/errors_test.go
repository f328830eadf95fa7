package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
)

// holdWriteLock takes the write lock of the database at path on a
// connection of its own, as another process writing would, and returns
// the function that releases it.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := openDB(path, 0)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE")
	require.NoError(t, err)
	return func() {
		_, err := conn.ExecContext(context.Background(), "ROLLBACK")
		require.NoError(t, err)
		require.NoError(t, conn.Close())
	}
}

func TestWritesWhileAnotherHoldsTheLockAreUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	s, err := open(t.Context(), path, 50*time.Millisecond)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(t.Context()))

	writes := []struct {
		name  string
		write func(ctx context.Context) error
	}{
		{"Transaction", func(ctx context.Context) error { // BEGIN IMMEDIATE fails
			_, _, err := s.UpsertService(ctx, &store.Service{Name: "orders", Type: "service", Lifecycle: "production", Owner: "team-orders"}, "")
			return err
		}},
		{"Statement", func(ctx context.Context) error { // a prepared INSERT ... RETURNING fails
			_, err := s.PutBudget(ctx, store.Budget{Team: "team-orders", MonthlyAmount: 1, Currency: "USD"})
			return err
		}},
		{"AuditAppend", func(ctx context.Context) error {
			_, err := s.AppendAuditEvent(ctx, store.AuditEvent{Principal: "user:default/zed", Action: "cairn.v1.CatalogService/RegisterService", Outcome: "succeeded", Code: "OK", Time: time.Now()})
			return err
		}},
	}
	release := holdWriteLock(t, path)
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			err := w.write(t.Context())
			require.ErrorIs(t, err, store.ErrUnavailable)
			var sqliteErr *modernc.Error
			require.ErrorAs(t, err, &sqliteErr, "the cause is kept")
			require.Equal(t, sqlite3.SQLITE_BUSY, sqliteErr.Code()&0xff)
		})
	}
	// Reads go on while a writer holds the lock (WAL).
	_, err = s.ListServices(t.Context(), store.ServiceFilter{}, "", 10)
	require.NoError(t, err)

	release()
	for _, w := range writes {
		require.NoError(t, w.write(t.Context()), "%s once the lock is released", w.name)
	}
}

func TestClassify(t *testing.T) {
	db, err := openDB(filepath.Join(t.TempDir(), "cairn.db"), busyTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	_, err = db.ExecContext(ctx, `CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
		CREATE TABLE child (parent INTEGER REFERENCES parent (id), n INTEGER CHECK (n > 0))`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "INSERT INTO parent (id, name) VALUES (1, 'a')")
	require.NoError(t, err)

	for _, tc := range []struct {
		name  string
		query string
		class error // nil: none
	}{
		{"UniqueTaken", "INSERT INTO parent (id, name) VALUES (2, 'a')", store.ErrAlreadyExists},
		{"PrimaryKeyTaken", "INSERT INTO parent (id, name) VALUES (1, 'b')", store.ErrAlreadyExists},
		{"ForeignKeyMissing", "INSERT INTO child (parent, n) VALUES (9, 1)", nil},
		{"CheckFailed", "INSERT INTO child (parent, n) VALUES (1, 0)", nil},
		{"SyntaxError", "INSERT INTO nowhere", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.ExecContext(ctx, tc.query)
			require.Error(t, err)
			err = sqlstore.Classify(errorClasses{}, err)
			var sqliteErr *modernc.Error
			require.ErrorAs(t, err, &sqliteErr, "the cause is kept")
			for _, class := range []error{store.ErrUnavailable, store.ErrAlreadyExists, store.ErrNotFound, store.ErrConflict} {
				require.Equal(t, class == tc.class, errors.Is(err, class), "%v: class %v", err, class)
			}
		})
	}
}
