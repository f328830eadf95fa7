package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// notification is an event's message to destination.
func notification(key, destination string) store.Notification {
	return store.Notification{
		Key: key + " " + destination, Destination: destination, Kind: "promotion_requested", Team: "team-orders",
		Service: "orders", Title: "Promotion waiting", Text: "v1.4.0 into production", Link: "https://backstage.example.com/x",
	}
}

func testEnqueueNotificationsKeepsEachKeyOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now()
	created, err := s.EnqueueNotifications(ctx, []store.Notification{notification("p/1", "slack:team-orders"), notification("p/1", "backstage:group:default/team-orders")})
	require.NoError(t, err)
	require.Equal(t, 2, created)
	// Again, as another replica would, with one new destination.
	created, err = s.EnqueueNotifications(ctx, []store.Notification{notification("p/1", "slack:team-orders"), notification("p/2", "slack:team-orders")})
	require.NoError(t, err)
	require.Equal(t, 1, created, "a key kept already is the notification already kept")

	all, err := s.ListNotifications(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, all, 3)
	got := all[2]
	want := notification("p/1", "slack:team-orders")
	want.ID, want.CreateTime, want.NextAttemptTime = got.ID, got.CreateTime, got.NextAttemptTime
	require.Equal(t, want, got, "listed newest first, every field as enqueued")
	requireStoreTime(t, got.CreateTime, before, time.Now())
	require.Equal(t, got.CreateTime, got.NextAttemptTime, "due at once")

	slack, err := s.ListNotifications(ctx, "slack:team-orders", 10)
	require.NoError(t, err)
	require.Len(t, slack, 2)

	_, err = s.EnqueueNotifications(ctx, []store.Notification{{Key: "no destination", Kind: "x"}})
	require.Error(t, err)
}

func testClaimNotificationsLeasesThemToOneSender(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.EnqueueNotifications(ctx, []store.Notification{notification("p/1", "slack:a"), notification("p/2", "slack:a"), notification("p/3", "slack:a")})
	require.NoError(t, err)
	now := time.Now().Add(time.Second)

	first, err := s.ClaimNotifications(ctx, now, now.Add(time.Minute), 2)
	require.NoError(t, err)
	require.Equal(t, []string{"p/1 slack:a", "p/2 slack:a"}, keys(first), "oldest first")
	second, err := s.ClaimNotifications(ctx, now, now.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"p/3 slack:a"}, keys(second), "a leased notification is no other sender's")

	require.NoError(t, s.MarkNotificationSent(ctx, first[0].ID, now))
	require.NoError(t, s.RetryNotification(ctx, first[1].ID, "connection refused", now.Add(time.Hour)))
	require.ErrorIs(t, s.MarkNotificationSent(ctx, first[0].ID, now), store.ErrNotFound, "sent once")

	// Once the lease runs out, what was neither sent nor retried is due again.
	later, err := s.ClaimNotifications(ctx, now.Add(2*time.Minute), now.Add(3*time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"p/3 slack:a"}, keys(later))
	retried, err := s.ClaimNotifications(ctx, now.Add(2*time.Hour), now.Add(3*time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"p/3 slack:a", "p/2 slack:a"}, keys(retried), "the retried one at its next attempt, after the one due before")
	require.Equal(t, 1, retried[1].Attempts)
	require.Equal(t, "connection refused", retried[1].LastError)

	require.NoError(t, s.RetryNotification(ctx, retried[1].ID, "410 Gone", time.Time{}))
	all, err := s.ListNotifications(ctx, "slack:a", 10)
	require.NoError(t, err)
	require.True(t, all[1].GaveUp, "a zero next attempt gives it up")
	require.False(t, all[2].SentTime.IsZero())
	gone, err := s.ClaimNotifications(ctx, now.Add(100*time.Hour), now.Add(101*time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"p/3 slack:a"}, keys(gone), "neither the sent nor the given up is claimed again")
}

func testConcurrentClaimsNeverShareANotification(t *testing.T, s store.Store) {
	ctx := t.Context()
	var ns []store.Notification
	for i := range 40 {
		ns = append(ns, notification("p/"+string(rune('a'+i%26))+string(rune('a'+i/26)), "slack:a"))
	}
	_, err := s.EnqueueNotifications(ctx, ns)
	require.NoError(t, err)
	now := time.Now().Add(time.Second)
	var (
		mu      sync.Mutex
		claimed = map[int64]int{}
		wg      sync.WaitGroup
	)
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			for {
				got, err := s.ClaimNotifications(ctx, now, now.Add(time.Hour), 3)
				if err != nil || len(got) == 0 {
					errs[i] = err
					return
				}
				mu.Lock()
				for _, n := range got {
					claimed[n.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "sender %d", i)
	}
	require.Len(t, claimed, 40)
	for id, times := range claimed {
		require.Equal(t, 1, times, "notification %d claimed %d times", id, times)
	}
}

func testPromotionsToNotifyFollowEachState(t *testing.T, s store.Store) {
	ctx := t.Context()
	provision(t, s, fullProvisioning("orders"))
	p, _, err := s.CreatePromotion(ctx, promotionRequest("orders", "req-1"))
	require.NoError(t, err)

	due, err := s.PromotionsToNotify(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{p.ID}, promotionIDs(due), "a new promotion is to notify")
	require.NoError(t, s.MarkPromotionNotified(ctx, "orders", p.ID, "pending"))
	due, err = s.PromotionsToNotify(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, due)

	_, err = s.DecidePromotion(ctx, "orders", p.ID, "approved", "user:default/lee", "", time.Now())
	require.NoError(t, err)
	due, err = s.PromotionsToNotify(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{p.ID}, promotionIDs(due), "its decision is to notify")
	require.Equal(t, "approved", due[0].State)
	require.NoError(t, s.MarkPromotionNotified(ctx, "orders", p.ID, "approved"))
	require.NoError(t, s.MarkPromotionNotified(ctx, "orders", p.ID, "approved"), "marking again is a no-op")
	due, err = s.PromotionsToNotify(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, due)
}

func keys(ns []store.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Key)
	}
	return out
}

func promotionIDs(ps []store.Promotion) []int64 {
	var out []int64
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}
