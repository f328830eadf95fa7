package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// refreshCooldown is the least time between two fetches of the JWKS. A
	// token naming an unknown key fetches the JWKS again (Backstage has
	// rotated its key), but forged tokens with made-up key ids must not
	// turn every call into a request to Backstage.
	refreshCooldown = 10 * time.Second
	// keysMaxAge is how long fetched keys are used before they are fetched
	// again in the background, so that keys Backstage has dropped stop
	// being trusted even when no new key id shows up.
	keysMaxAge = 10 * time.Minute
	// fetchTimeout bounds one fetch of the JWKS.
	fetchTimeout = 10 * time.Second
	// maxJWKSBytes bounds the JWKS document.
	maxJWKSBytes = 1 << 20
)

// errKeyUnknown and errKeysUnavailable are keySet.lookup's errors.
var (
	errKeyUnknown      = errors.New("unknown key")
	errKeysUnavailable = errors.New("keys unavailable")
)

// keySet caches the public keys of a remote JWKS. It fetches the JWKS when
// asked for a key id it does not have (at most once per refreshCooldown,
// concurrent callers sharing one fetch) and, in the background, when its
// keys are older than keysMaxAge. A failed fetch keeps the keys it had.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetched   time.Time     // start of the last successful fetch
	attempted time.Time     // start of the last fetch
	err       error         // of the last fetch
	inflight  chan struct{} // closed when the running fetch ends; nil when none runs
}

// lookup returns the keys with id kid.
func (s *keySet) lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	s.mu.Lock()
	now := s.now()
	canFetch := s.attempted.IsZero() || now.Sub(s.attempted) >= refreshCooldown
	if found := keysWithID(s.keys, kid); len(found) > 0 {
		if s.inflight == nil && canFetch && now.Sub(s.fetched) >= keysMaxAge {
			s.fetchLocked(now)
		}
		s.mu.Unlock()
		return found, nil
	}
	if s.inflight == nil {
		if !canFetch {
			err := s.err
			s.mu.Unlock()
			if err != nil {
				return nil, errKeysUnavailable
			}
			return nil, errKeyUnknown
		}
		s.fetchLocked(now)
	}
	done := s.inflight
	s.mu.Unlock()

	select {
	case <-ctx.Done():
		return nil, errKeysUnavailable
	case <-done:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if found := keysWithID(s.keys, kid); len(found) > 0 {
		return found, nil
	}
	if s.err != nil {
		return nil, errKeysUnavailable
	}
	return nil, errKeyUnknown
}

// fetchLocked starts a fetch; s.mu is held.
func (s *keySet) fetchLocked(now time.Time) {
	done := make(chan struct{})
	s.inflight = done
	s.attempted = now
	go func() {
		// Not the caller's context: the fetch is shared, and one caller
		// giving up must not fail the others.
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		keys, err := s.fetch(ctx)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err == nil {
			s.keys, s.fetched = keys, now // as fresh as the request for them
		}
		s.err = err
		s.inflight = nil
		close(done)
	}()
}

// fetch reads the JWKS, keeping the public signing keys with a key id and
// ignoring the keys it cannot use, as RFC 7517 section 5 asks.
func (s *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS: HTTP status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS: larger than %d bytes", maxJWKSBytes)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !k.Valid() || k.KeyID == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		switch k.Key.(type) {
		case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func keysWithID(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	var found []jose.JSONWebKey
	for _, k := range keys {
		if k.KeyID == kid {
			found = append(found, k)
		}
	}
	return found
}
