package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func openPreparedDB(t *testing.T) *preparedDB {
	t.Helper()
	db, err := openDB(filepath.Join(t.TempDir(), "cairn.db"), busyTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return newPreparedDB(db)
}

func TestPreparedDBPreparesEachStatementOnce(t *testing.T) {
	p := openPreparedDB(t)
	ctx := t.Context()
	_, err := p.ExecContext(ctx, "CREATE TABLE t (v INTEGER)")
	require.NoError(t, err)
	for v := range 3 {
		_, err = p.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", v)
		require.NoError(t, err)
	}
	var sum int
	require.NoError(t, p.QueryRowContext(ctx, "SELECT sum(v) FROM t WHERE v >= ?", 0).Scan(&sum))
	require.Equal(t, 3, sum)
	rows, err := p.QueryContext(ctx, "SELECT v FROM t ORDER BY v")
	require.NoError(t, err)
	var got []int
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		got = append(got, v)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, []int{0, 1, 2}, got)
	require.Len(t, p.stmts, 4, "one statement per text")

	// A statement that does not prepare fails as it would unprepared.
	_, err = p.ExecContext(ctx, "INSERT INTO missing (v) VALUES (1)")
	require.ErrorContains(t, err, "no such table")
	require.ErrorContains(t, p.QueryRowContext(ctx, "SELECT v FROM missing").Scan(&sum), "no such table")
}

func TestPreparedDBKeepsAtMostItsBoundAndRunsTheRestUnprepared(t *testing.T) {
	p := openPreparedDB(t)
	// Each text is a statement of its own, as a list query's is per length.
	for i := range maxPreparedStatements + 10 {
		var got int
		require.NoError(t, p.QueryRowContext(t.Context(), fmt.Sprintf("SELECT ? + %d", i), 1).Scan(&got))
		require.Equal(t, 1+i, got)
	}
	require.Len(t, p.stmts, maxPreparedStatements)
}
