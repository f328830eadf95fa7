package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Bounds of the user info lookups.
const (
	// maxUserInfoBytes bounds the auth backend's answer: a user's
	// references, not a document.
	maxUserInfoBytes = 1 << 20
	// maxUserInfoEntries bounds the cache: one entry per live user token.
	maxUserInfoEntries = 10000
	// maxUserInfoAge is the longest a user's references are kept, so that
	// a change of groups reaches Cairn within it whatever the token's life.
	maxUserInfoAge = 10 * time.Minute
)

// userInfo reads a user's ownership references from Backstage's auth
// backend (`GET <backend>/api/auth/v1/userinfo` with the user's token),
// for tokens without the `ent` claim: Backstage leaves it out by default
// (auth.omitIdentityTokenOwnershipClaim). Answers are cached per token,
// for at most maxUserInfoAge and never past the token's expiry, and
// concurrent lookups of one token make one request.
type userInfo struct {
	url    string
	client *http.Client
	now    func() time.Time

	flight singleflight.Group
	mu     sync.Mutex
	cache  map[[sha256.Size]byte]cachedRefs
}

type cachedRefs struct {
	ent     []string
	expires time.Time
}

// ent returns the ownership references of the user sub (canonical) whose
// verified token is token and expires at expiry. It fails closed: an
// answer that cannot be had is ErrUnavailable, one for another user
// ErrInvalidCredentials, and neither gives any team.
func (u *userInfo) ent(ctx context.Context, token string, sub string, expiry time.Time) ([]string, error) {
	key := sha256.Sum256([]byte(token))
	now := u.now()
	u.mu.Lock()
	cached, ok := u.cache[key]
	u.mu.Unlock()
	if ok && now.Before(cached.expires) {
		return cached.ent, nil
	}
	if ctx.Err() != nil {
		// The gRPC tap asks without waiting: the guard asks again.
		return nil, &authError{ErrUnavailable, reasonUserInfoUnavailable}
	}
	v, err, _ := u.flight.Do(string(key[:]), func() (any, error) {
		ent, err := u.fetch(ctx, token, sub)
		if err != nil {
			return nil, err
		}
		u.store(key, cachedRefs{ent: ent, expires: minTime(expiry, now.Add(maxUserInfoAge))})
		return ent, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

func (u *userInfo) fetch(ctx context.Context, token, sub string) ([]string, error) {
	unavailable := &authError{ErrUnavailable, reasonUserInfoUnavailable}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.url, nil)
	if err != nil {
		return nil, unavailable
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, unavailable
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// Backstage no longer takes the token (the user was removed).
		return nil, invalid(reasonUserInfoRefused)
	case resp.StatusCode != http.StatusOK:
		return nil, unavailable
	}
	var answer struct {
		Claims struct {
			Sub string   `json:"sub"`
			Ent []string `json:"ent"`
		} `json:"claims"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxUserInfoBytes)).Decode(&answer); err != nil {
		return nil, unavailable
	}
	if got, ok := canonicalRef(answer.Claims.Sub); !ok || got.String() != sub {
		return nil, invalid(reasonUserInfoRefused)
	}
	if answer.Claims.Ent == nil {
		return []string{}, nil
	}
	return answer.Claims.Ent, nil
}

// store caches refs under key, first dropping expired entries when the
// cache is full, then any entry: the cache never holds more than
// maxUserInfoEntries.
func (u *userInfo) store(key [sha256.Size]byte, refs cachedRefs) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.cache) >= maxUserInfoEntries {
		now := u.now()
		for k, c := range u.cache {
			if !now.Before(c.expires) {
				delete(u.cache, k)
			}
		}
		for k := range u.cache {
			if len(u.cache) < maxUserInfoEntries {
				break
			}
			delete(u.cache, k)
		}
	}
	u.cache[key] = refs
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
