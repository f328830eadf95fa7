package server

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
)

func TestReadyzSaysOnlyNotReadyWhenTheStoreIsDownAndLogsWhy(t *testing.T) {
	pg := pgtest.New(t)
	storeURL := pg.NewDatabase(t)
	u, err := url.Parse(storeURL)
	require.NoError(t, err)
	r := runServer(t, func(cfg *Config) { cfg.Store = storeURL })
	anyone := r.httpClient(t, honest)

	code, body := r.get(t, anyone, "/readyz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ready\n", body)

	pg.Stop(t)
	require.Eventually(t, func() bool {
		code, body = r.get(t, anyone, "/readyz")
		return code == http.StatusServiceUnavailable
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "not ready\n", body, "nothing of the store's error reaches the caller")
	require.NotContains(t, body, u.Hostname())
	require.NotContains(t, body, u.User.Username())

	logs := r.logs.String()
	require.Contains(t, logs, "readiness check failed")
	require.Contains(t, logs, "store:", "the log says why")
}
