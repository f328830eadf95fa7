package auth

import "time"

// SetClock makes a read its time, for token validity and key refreshes,
// from now.
func SetClock(a *Authenticator, now func() time.Time) { a.now = now }

// Cooldowns of the key set, for tests that advance the clock past them.
const (
	RefreshCooldown = refreshCooldown
	KeysMaxAge      = keysMaxAge
)
