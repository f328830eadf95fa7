package cost

import (
	"testing"

	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// onEngines runs test on a server over each of engines' stores.
func onEngines(t *testing.T, test func(t *testing.T, s *Server, st store.Store)) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			st := engine.open(t)
			test(t, NewServer(st, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings()), st)
		})
	}
}
