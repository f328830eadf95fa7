package migrations

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestReadInVersionOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0002_teams.sql":   {Data: []byte("CREATE TABLE teams (name TEXT);")},
		"migrations/0001_catalog.sql": {Data: []byte("CREATE TABLE services (name TEXT);")},
	}
	migrations, err := Read(fsys)
	require.NoError(t, err)
	require.Equal(t, []Migration{
		{Version: 1, Name: "catalog", SQL: "CREATE TABLE services (name TEXT);"},
		{Version: 2, Name: "teams", SQL: "CREATE TABLE teams (name TEXT);"},
	}, migrations)
}

func TestReadRejectsBadNames(t *testing.T) {
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
		_, err := Read(fsys)
		require.Error(t, err, "files %q", files)
	}
}

func TestString(t *testing.T) {
	require.Equal(t, "0001_catalog", Migration{Version: 1, Name: "catalog"}.String())
	require.Equal(t, "0123_teams", Migration{Version: 123, Name: "teams", SQL: "SELECT 1"}.String())
}

func TestCheck(t *testing.T) {
	catalog := Migration{Version: 1, Name: "catalog", SQL: "CREATE TABLE services (name TEXT);"}
	teams := Migration{Version: 2, Name: "teams", SQL: "CREATE TABLE teams (name TEXT);"}
	known := []Migration{catalog, teams}
	record := func(m Migration) Migration { return Migration{Version: m.Version, Name: m.Name} }

	for _, tc := range []struct {
		name    string
		known   []Migration
		applied []Migration
		want    error  // nil, store.ErrSchemaOutdated or store.ErrSchemaNewer
		names   string // what the error names
	}{
		{"AllApplied", known, []Migration{record(catalog), record(teams)}, nil, ""},
		{"NothingKnownNothingApplied", nil, nil, nil, ""},
		{"NewDatabase", known, nil, store.ErrSchemaOutdated, "migrations not applied: 0001_catalog, 0002_teams"},
		{"LastPending", known, []Migration{record(catalog)}, store.ErrSchemaOutdated, "migrations not applied: 0002_teams"},
		{"GapPending", known, []Migration{record(teams)}, store.ErrSchemaOutdated, "migrations not applied: 0001_catalog"},
		{"VersionsCountNotNames", known, []Migration{{Version: 1, Name: "renamed"}, record(teams)}, nil, ""},
		{"Newer", known, []Migration{record(catalog), record(teams), {Version: 3, Name: "owners"}}, store.ErrSchemaNewer, "migrations unknown to this Cairn: 0003_owners"},
		{"NewerWinsOverPending", known, []Migration{record(catalog), {Version: 3, Name: "owners"}, {Version: 4, Name: "costs"}}, store.ErrSchemaNewer, "migrations unknown to this Cairn: 0003_owners, 0004_costs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.known, tc.applied)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.names)
			other := store.ErrSchemaNewer
			if tc.want == store.ErrSchemaNewer {
				other = store.ErrSchemaOutdated
			}
			require.NotErrorIs(t, err, other)
		})
	}
}

func TestCheckOutdatedSaysToMigrate(t *testing.T) {
	err := Check([]Migration{{Version: 1, Name: "catalog"}}, nil)
	require.EqualError(t, err, "store schema is out of date: run `cairn migrate`: migrations not applied: 0001_catalog")
}
