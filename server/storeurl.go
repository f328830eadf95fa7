package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/postgres"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// OpenStore opens the store a URL names: `sqlite:PATH` or
// `postgres://...` (also `postgresql://...`). It does not migrate.
func OpenStore(ctx context.Context, rawURL string) (store.Store, error) {
	scheme, rest, _ := strings.Cut(rawURL, ":")
	switch scheme {
	case "sqlite":
		path := strings.TrimPrefix(rest, "//")
		if path == "" {
			return nil, fmt.Errorf("store %q: want sqlite:PATH, such as sqlite:cairn.db", rawURL)
		}
		return sqlite.Open(ctx, path)
	case "postgres", "postgresql":
		return postgres.Open(ctx, rawURL)
	default:
		return nil, fmt.Errorf("store %q: unsupported scheme %q; want sqlite:PATH or postgres://...", redactStoreURL(rawURL), scheme)
	}
}

// Backoff between attempts to reach a store that is not up yet.
const (
	firstRetryDelay = 500 * time.Millisecond
	maxRetryDelay   = 15 * time.Second
)

// openAndMigrate opens the store and brings its schema up to date, or when
// migrate is false checks that an operator did (`cairn migrate`). While the
// database cannot be reached it waits and tries again, so that Cairn and its
// database can start in either order.
func openAndMigrate(ctx context.Context, rawURL string, migrate bool, logger *slog.Logger) (store.Store, error) {
	st, err := OpenStore(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	prepare := st.Migrate
	if !migrate {
		prepare = st.CheckSchema
	}
	delay := firstRetryDelay
	for {
		err := prepare(ctx)
		if err == nil {
			return st, nil
		}
		if !errors.Is(err, store.ErrUnavailable) {
			st.Close()
			return nil, err
		}
		logger.Warn("store unreachable; retrying", "store", redactStoreURL(rawURL), "in", delay, "error", err)
		select {
		case <-ctx.Done():
			st.Close()
			return nil, fmt.Errorf("store %s: %w", redactStoreURL(rawURL), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetryDelay)
	}
}

// redactStoreURL hides a password in a store URL, for logs and errors.
func redactStoreURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}

// Migrate applies the store's pending migrations and returns, for operators
// who run `cairn migrate` before starting Cairn with --migrate-on-start=false.
func Migrate(ctx context.Context, cfg Config, logger *slog.Logger) error {
	st, err := OpenStore(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	logger.Info("store schema is up to date", "store", redactStoreURL(cfg.Store))
	return nil
}
