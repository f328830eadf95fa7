package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/store"
)

// EnqueueNotifications implements store.NotificationStore, in one
// transaction: an event's notifications are kept together or not at all.
func (s *Store) EnqueueNotifications(ctx context.Context, ns []store.Notification) (int, error) {
	for _, n := range ns {
		if n.Key == "" || n.Destination == "" || n.Kind == "" {
			return 0, fmt.Errorf("%s: enqueue notification %q: key, destination and kind are required", s.d.Name(), n.Key)
		}
	}
	created := 0
	err := s.inTx(ctx, func(tx Executor) error {
		now := time.Now()
		for _, n := range ns {
			ok, err := tx.EnqueueNotification(ctx, n, now)
			if err != nil {
				return err
			}
			if ok {
				created++
			}
		}
		return nil
	})
	if err != nil {
		return 0, s.failed("enqueue notifications", err)
	}
	return created, nil
}

// ClaimNotifications implements store.NotificationStore.
func (s *Store) ClaimNotifications(ctx context.Context, now, until time.Time, limit int) ([]store.Notification, error) {
	claimed, err := s.d.ClaimNotifications(ctx, now, until, limit)
	if err != nil {
		return nil, s.failed("claim notifications", err)
	}
	// An UPDATE ... RETURNING returns its rows in no promised order.
	slices.SortFunc(claimed, func(a, b store.Notification) int {
		return cmp.Or(a.NextAttemptTime.Compare(b.NextAttemptTime), cmp.Compare(a.ID, b.ID))
	})
	return claimed, nil
}

// MarkNotificationSent implements store.NotificationStore.
func (s *Store) MarkNotificationSent(ctx context.Context, id int64, at time.Time) error {
	found, err := s.d.MarkNotificationSent(ctx, id, at)
	return s.notificationChanged(fmt.Sprintf("mark notification %d sent", id), found, err)
}

// RetryNotification implements store.NotificationStore.
func (s *Store) RetryNotification(ctx context.Context, id int64, lastError string, next time.Time) error {
	found, err := s.d.RetryNotification(ctx, id, lastError, next, next.IsZero())
	return s.notificationChanged(fmt.Sprintf("retry notification %d", id), found, err)
}

// notificationChanged is the error of a change to a notification not
// sent yet: ErrNotFound when there was none.
func (s *Store) notificationChanged(what string, found bool, err error) error {
	switch {
	case err != nil:
		return s.failed(what, err)
	case !found:
		return fmt.Errorf("%s: %s: %w", s.d.Name(), what, store.ErrNotFound)
	}
	return nil
}

// ListNotifications implements store.NotificationStore.
func (s *Store) ListNotifications(ctx context.Context, destination string, limit int) ([]store.Notification, error) {
	ns, err := s.d.ListNotifications(ctx, destination, limit)
	if err != nil {
		return nil, s.failed("list notifications", err)
	}
	return ns, nil
}

// PromotionsToNotify implements store.NotificationStore.
func (s *Store) PromotionsToNotify(ctx context.Context, limit int) ([]store.Promotion, error) {
	ps, err := s.d.PromotionsToNotify(ctx, limit)
	if err != nil {
		return nil, s.failed("list promotions to notify", err)
	}
	return ps, nil
}

// MarkPromotionNotified implements store.NotificationStore.
func (s *Store) MarkPromotionNotified(ctx context.Context, service string, id int64, state string) error {
	if err := s.d.MarkPromotionNotified(ctx, service, id, state); err != nil {
		return s.failed(fmt.Sprintf("mark promotion %d of %q notified", id, service), err)
	}
	return nil
}
