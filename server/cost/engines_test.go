package cost

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// TestMain lets tests use the binary's shared PostgreSQL, started on the
// first use alone.
func TestMain(m *testing.M) { pgtest.Main(m) }

// engines are the stores tests that read across store methods run on: a
// fresh, migrated one per call.
var engines = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"sqlite", func(tb testing.TB) store.Store {
		st, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "cairn.db"))
		require.NoError(tb, err)
		tb.Cleanup(func() { st.Close() })
		require.NoError(tb, st.Migrate(tb.Context()))
		return st
	}},
	{"postgres", func(tb testing.TB) store.Store {
		st, err := postgres.Open(tb.Context(), pgtest.Shared(tb).NewDatabase(tb))
		require.NoError(tb, err)
		tb.Cleanup(func() { st.Close() })
		require.NoError(tb, st.Migrate(tb.Context()))
		return st
	}},
}

// onEngines runs test on a server over each engine's store.
func onEngines(t *testing.T, test func(t *testing.T, s *Server, st store.Store)) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			st := engine.open(t)
			test(t, NewServer(st, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings()), st)
		})
	}
}
