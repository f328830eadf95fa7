package server

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// openStore opens the store a URL names and brings its schema up to date.
func openStore(ctx context.Context, rawURL string) (store.Store, error) {
	scheme, rest, _ := strings.Cut(rawURL, ":")
	switch scheme {
	case "sqlite":
		path := strings.TrimPrefix(rest, "//")
		if path == "" {
			return nil, fmt.Errorf("store %q: want sqlite:PATH, such as sqlite:cairn.db", rawURL)
		}
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	default:
		return nil, fmt.Errorf("store %q: unsupported scheme %q; this version of Cairn supports sqlite:PATH", redactStoreURL(rawURL), scheme)
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
