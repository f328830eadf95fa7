package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNewDatabaseIsEmptyAndOwnedByTheTest(t *testing.T) {
	server := pgtest.Shared(t)
	first, second := server.NewDatabase(t), server.NewDatabase(t)
	require.NotEqual(t, first, second)

	exec(t, first, `CREATE TABLE notes (body text)`)
	var tables int
	query(t, second, `SELECT count(*) FROM pg_tables WHERE tablename = 'notes'`, &tables)
	require.Zero(t, tables, "a table made in one test database shows in another")
}

func TestNewDatabaseIsDroppedWhenTheTestEnds(t *testing.T) {
	server := pgtest.Shared(t)
	var name string
	t.Run("Owner", func(t *testing.T) {
		url := server.NewDatabase(t)
		query(t, url, `SELECT current_database()`, &name)
		// An open connection does not keep the database from being dropped.
		conn, err := pgx.Connect(context.Background(), url)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close(context.Background()) })
	})

	var exists bool
	query(t, server.URL("postgres"), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, &exists, name)
	require.False(t, exists, "database %s outlives its test", name)
}

func TestDefaultCollationIsNotByteOrder(t *testing.T) {
	if os.Getenv(pgtest.EnvURL) != "" {
		t.Skipf("the collation is that of the server %s names", pgtest.EnvURL)
	}
	url := pgtest.Shared(t).NewDatabase(t)
	var first string
	query(t, url, `SELECT min(x) FROM (VALUES ('a'), ('B')) AS v (x)`, &first)
	require.Equal(t, "a", first, "the database sorts in byte order: tests cannot tell whether a schema asks for it")
}

func TestStopAndStartKeepData(t *testing.T) {
	server := pgtest.New(t)
	url := server.NewDatabase(t)
	exec(t, url, `CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')`)

	server.Stop(t)
	_, err := pgx.Connect(t.Context(), url)
	require.Error(t, err, "connected to a stopped server")

	server.Start(t)
	var body string
	query(t, url, `SELECT body FROM notes`, &body)
	require.Equal(t, "kept", body)
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(t.Context(), sql)
	require.NoError(t, err)
}

func query(t *testing.T, url, sql string, dst any, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	require.NoError(t, conn.QueryRow(t.Context(), sql, args...).Scan(dst))
}
