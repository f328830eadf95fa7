package sqlite

import (
	"context"
	"time"
)

// OpenWithBusyTimeout is Open with another busy timeout.
func OpenWithBusyTimeout(ctx context.Context, path string, busyTimeout time.Duration) (*Store, error) {
	return open(ctx, path, busyTimeout)
}
