package delivery

import (
	"fmt"
	"time"
)

// EventWindow bounds the times of recorded events around now: an event
// dated 1970 or 2099 is a caller's mistake (a zero value, a unit error),
// and would skew every DORA figure it falls into.
type EventWindow struct {
	// MaxAge is how far back an event may lie: long enough to backfill
	// a year of history from an incident tool or CI.
	MaxAge time.Duration `yaml:"maxAge"`
	// MaxFuture is how far ahead of Cairn's clock an event may lie: the
	// clock skew allowed to the machines that report events.
	MaxFuture time.Duration `yaml:"maxFuture"`
}

// DefaultEventWindow takes events of the last 366 days, and up to ten
// minutes ahead of Cairn's clock.
var DefaultEventWindow = EventWindow{MaxAge: 366 * 24 * time.Hour, MaxFuture: 10 * time.Minute}

// Validate refuses a window that would take no event.
func (w EventWindow) Validate() error {
	if w.MaxAge <= 0 || w.MaxFuture < 0 {
		return fmt.Errorf("event window: max age %s must be positive and max future %s not negative", w.MaxAge, w.MaxFuture)
	}
	return nil
}

// eventTimes checks the times of one event against the window at now.
type eventTimes struct {
	now    time.Time
	window EventWindow
}

// check adds a violation when t is missing (and required) or outside the
// window.
func (e eventTimes) check(v *violations, field string, t time.Time, required bool) {
	switch {
	case t.IsZero():
		if required {
			v.add(field, "is required")
		}
	case t.Before(e.now.Add(-e.window.MaxAge)):
		v.add(field, "must be within the last %s: %s is older", formatDays(e.window.MaxAge), t.UTC().Format(time.RFC3339))
	case t.After(e.now.Add(e.window.MaxFuture)):
		v.add(field, "must not be more than %s ahead of the server's clock: %s is in the future", e.window.MaxFuture, t.UTC().Format(time.RFC3339))
	}
}

// formatDays writes a duration of whole days as days, which reads better
// than 8784h0m0s.
func formatDays(d time.Duration) string {
	const day = 24 * time.Hour
	if d%day == 0 {
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}
