package auth

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestUserInfoCacheStaysBounded(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	u := &userInfo{now: func() time.Time { return now }, cache: map[[sha256.Size]byte]cachedRefs{}}
	for i := range maxUserInfoEntries + 100 {
		var key [sha256.Size]byte
		binary.BigEndian.PutUint64(key[:], uint64(i))
		expires := now.Add(time.Minute)
		if i%2 == 0 {
			expires = now.Add(-time.Minute) // expired: dropped first
		}
		u.store(key, cachedRefs{expires: expires})
		require.LessOrEqual(t, len(u.cache), maxUserInfoEntries)
	}
}
