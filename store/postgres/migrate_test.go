package postgres

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestReadMigrationsInVersionOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0002_teams.sql":   {Data: []byte("CREATE TABLE teams (name TEXT);")},
		"migrations/0001_catalog.sql": {Data: []byte("CREATE TABLE services (name TEXT);")},
	}
	migrations, err := readMigrations(fsys)
	require.NoError(t, err)
	require.Equal(t, []migration{
		{version: 1, name: "catalog", sql: "CREATE TABLE services (name TEXT);"},
		{version: 2, name: "teams", sql: "CREATE TABLE teams (name TEXT);"},
	}, migrations)
}

func TestReadMigrationsRejectsBadNames(t *testing.T) {
	for _, files := range [][]string{
		{"0001_catalog.txt"},
		{"1_catalog.sql"},
		{"0001catalog.sql"},
		{"0001_.sql"},
		{"0000_zero.sql"},
		{"abcd_catalog.sql"},
		{"+001_catalog.sql"},
		{"0001_catalog-v2.sql"},
		{"0001_catalog.sql", "0001_teams.sql"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range files {
			fsys["migrations/"+f] = &fstest.MapFile{}
		}
		_, err := readMigrations(fsys)
		require.Error(t, err, "files %q", files)
	}
}
