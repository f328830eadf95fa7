package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/slacktest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// backstage stands in for Backstage's notifications backend: it keeps
// each notification it is sent, and answers what fail says.
type backstage struct {
	mu       sync.Mutex
	received []map[string]any
	auth     []string
	fail     int // answer 503 to this many more
	url      string
}

func newBackstage(t *testing.T) *backstage {
	b := &backstage{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		require.Equal(t, "/api/notifications/notifications", r.URL.Path)
		if b.fail > 0 {
			b.fail--
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		var body map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		b.received = append(b.received, body)
		b.auth = append(b.auth, r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

func (b *backstage) got() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]map[string]any(nil), b.received...)
}

type harness struct {
	store     store.Store
	notifier  *Notifier
	slack     *slacktest.Receiver
	backstage *backstage
	now       time.Time
}

func secretFile(t *testing.T, name, content string) string {
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content+"\n"), 0o600))
	return path
}

// newHarness is a notifier over a real SQLite store holding orders-service
// of team-orders, with team-orders' Slack channel and Backstage's
// notifications backend stood in for.
func newHarness(t *testing.T, st store.Store) *harness {
	t.Helper()
	// A minute ahead of the store's clock, which stamps what is enqueued.
	h := &harness{store: st, slack: slacktest.NewReceiver(t), backstage: newBackstage(t), now: time.Now().Add(time.Minute)}
	cfg := Config{
		Slack:        []SlackChannel{{Team: "team-orders", WebhookURLFile: secretFile(t, "hook", h.slack.URL+"/services/T0/B0/secret")}},
		Backstage:    BackstageConfig{URL: h.backstage.url, TokenFile: secretFile(t, "token", "cairn-external-token")},
		BackstageURL: "https://backstage.example.com",
	}
	require.NoError(t, cfg.Validate())
	n, err := New(cfg, st, nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	require.NoError(t, err)
	n.now = func() time.Time { return h.now }
	h.notifier = n
	return h
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(t.Context()))
	return st
}

func provisionOrders(t *testing.T, st store.Store) {
	t.Helper()
	_, _, err := st.CreateProvisioning(t.Context(), store.Provisioning{
		Service: "orders-service", RequestID: "r", Requester: "user:default/lee",
		Spec: store.ProvisioningSpec{Owner: "group:default/team-orders", Team: "team-orders", Environments: []string{"staging", "production"}},
	}, &store.Service{Name: "orders-service", Type: "service", Lifecycle: "production", Owner: "group:default/team-orders"})
	require.NoError(t, err)
}

func requestPromotion(t *testing.T, st store.Store) store.Promotion {
	t.Helper()
	p, _, err := st.CreatePromotion(t.Context(), store.Promotion{Service: "orders-service", Revision: "v1.4.0", Environment: "production", Requester: "user:default/lee", RequestID: "p1"})
	require.NoError(t, err)
	return p
}

func TestAPromotionsRequestAndDecisionAreSentOnceToEachDestination(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "cairn.db"))
	provisionOrders(t, st)
	h := newHarness(t, st)
	p := requestPromotion(t, st)

	h.notifier.Pass(t.Context())
	request := h.slack.Next(t)
	require.Equal(t, "/services/T0/B0/secret", request["path"])
	require.Equal(t, "*Promotion waiting for an approver: orders-service*\nuser:default/lee asks to promote v1.4.0 of orders-service into production. "+
		"An approver of team-orders other than the requester decides.\n<https://backstage.example.com/catalog/default/component/orders-service|View in Backstage>",
		slacktest.Text(request))
	sent := h.backstage.got()
	require.Len(t, sent, 1)
	require.Equal(t, map[string]any{"type": "entity", "entityRef": []any{"group:default/team-orders"}}, sent[0]["recipients"], "a request goes to the owning team")
	require.Equal(t, "Bearer cairn-external-token", h.backstage.auth[0])
	require.Equal(t, "/catalog/default/component/orders-service", sent[0]["payload"].(map[string]any)["link"],
		"a link into the app is relative there, so the notifications page opens it in the app's own tab")

	h.notifier.Pass(t.Context())
	require.Zero(t, h.slack.Pending(), "nothing is sent twice")
	require.Len(t, h.backstage.got(), 1)

	_, err := st.DecidePromotion(t.Context(), "orders-service", p.ID, "approved", "user:default/kai", "release notes read", time.Now())
	require.NoError(t, err)
	h.notifier.Pass(t.Context())
	require.Contains(t, slacktest.Text(h.slack.Next(t)), "user:default/kai approved v1.4.0 of orders-service into production, which user:default/lee asked for; syncing. Reason: release notes read")
	sent = h.backstage.got()
	require.Len(t, sent, 2)
	require.Equal(t, []any{"user:default/lee"}, sent[1]["recipients"].(map[string]any)["entityRef"], "a decision goes to the requester")
	require.Equal(t, "promotion/orders-service/1/approved backstage:user:default/lee", sent[1]["payload"].(map[string]any)["scope"])

	all, err := st.ListNotifications(t.Context(), "", 10)
	require.NoError(t, err)
	require.Len(t, all, 4)
	for _, m := range all {
		require.False(t, m.SentTime.IsZero(), "%s is recorded sent", m.Key)
	}
}

func TestAFailingDestinationIsRetriedWithBackoffAndHoldsUpNoOther(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "cairn.db"))
	provisionOrders(t, st)
	h := newHarness(t, st)
	h.backstage.fail = 2
	requestPromotion(t, st)

	h.notifier.Pass(t.Context())
	h.slack.Next(t) // Slack was sent to, Backstage failing or not
	require.Empty(t, h.backstage.got())
	failed, err := st.ListNotifications(t.Context(), "backstage:group:default/team-orders", 1)
	require.NoError(t, err)
	require.Equal(t, 1, failed[0].Attempts)
	require.Equal(t, "Backstage answered 503 Service Unavailable", failed[0].LastError)
	require.True(t, h.now.Add(firstRetry).Truncate(time.Microsecond).Equal(failed[0].NextAttemptTime), "retried after the first backoff")

	h.notifier.Pass(t.Context())
	require.Empty(t, h.backstage.got(), "not before its next attempt")
	h.now = h.now.Add(firstRetry)
	h.notifier.Pass(t.Context()) // fails again: backs off twice as long
	h.now = h.now.Add(2 * firstRetry)
	h.notifier.Pass(t.Context())
	require.Len(t, h.backstage.got(), 1)
	require.Equal(t, 2.0, testutil.ToFloat64(h.notifier.sent.WithLabelValues("backstage", "retried")))
	require.Equal(t, 1.0, testutil.ToFloat64(h.notifier.sent.WithLabelValues("backstage", "sent")))
	require.Zero(t, h.slack.Pending())
}

// A Cairn that stops between a promotion and its notification, or between
// enqueueing it and recording that it did, neither loses nor repeats it
// when it starts again: the store holds what is news and what is sent.
func TestARestartBetweenAPromotionAndItsNotificationLosesAndRepeatsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cairn.db")
	st := openStore(t, path)
	provisionOrders(t, st)
	requestPromotion(t, st)
	// The first Cairn enqueued the request's notifications and stopped
	// before recording that the promotion was notified.
	first := newHarness(t, st)
	promotions, err := st.PromotionsToNotify(t.Context(), 10)
	require.NoError(t, err)
	e, ok := promotionEvent(promotions[0], mustProvisioning(t, st))
	require.True(t, ok)
	_, err = st.EnqueueNotifications(t.Context(), first.notifier.notificationsOf(e))
	require.NoError(t, err)
	require.NoError(t, st.Close())

	// The next one starts on the same database.
	again := openStore(t, path)
	h := newHarness(t, again)
	h.notifier.Pass(t.Context())
	h.notifier.Pass(t.Context())
	h.slack.Next(t)
	require.Zero(t, h.slack.Pending(), "one message in the channel")
	require.Len(t, h.backstage.got(), 1, "one notification in Backstage")
	require.Zero(t, first.slack.Pending())
}

func mustProvisioning(t *testing.T, st store.Store) store.Provisioning {
	p, err := st.GetProvisioning(t.Context(), "orders-service")
	require.NoError(t, err)
	return p
}

func TestNoWebhookURLReachesTheStore(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "cairn.db"))
	provisionOrders(t, st)
	// A webhook of a port nothing listens on: the client's error names the URL.
	hook := "http://127.0.0.1:1/services/T0/B0/supersecret"
	n, err := New(Config{Slack: []SlackChannel{{Team: "team-orders", WebhookURLFile: secretFile(t, "hook", hook)}}},
		st, nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	require.NoError(t, err)
	requestPromotion(t, st)
	n.Pass(t.Context())
	failed, err := st.ListNotifications(t.Context(), "slack:team-orders", 1)
	require.NoError(t, err)
	require.Equal(t, 1, failed[0].Attempts)
	require.NotEmpty(t, failed[0].LastError)
	require.NotContains(t, failed[0].LastError, "supersecret")
}

func TestRunStopsWithItsContext(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "cairn.db"))
	h := newHarness(t, st)
	h.notifier.cfg.Interval = time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { h.notifier.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return once its context was done")
	}
}

// events is a Source that finds the same events at every look.
type events struct {
	found  []Event
	looked int
}

func (e *events) Events(context.Context) ([]Event, error) {
	e.looked++
	return e.found, nil
}

func TestAnEventASourceFindsAgainIsToldOnce(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "cairn.db"))
	h := newHarness(t, st)
	src := &events{found: []Event{{Key: "budget/team-orders/2026-12/80", Kind: "budget_80_percent", Team: "team-orders",
		Title: "80% of the budget spent", Text: "team-orders has spent 4,000.00 USD of 5,000.00 USD.", Recipient: "group:default/team-orders"}}}
	h.notifier.sources, h.notifier.looked = []Source{src}, make([]time.Time, 1)

	h.notifier.Pass(t.Context())
	require.Contains(t, slacktest.Text(h.slack.Next(t)), "team-orders has spent 4,000.00 USD of 5,000.00 USD.")
	require.Len(t, h.backstage.got(), 1)
	h.notifier.Pass(t.Context())
	require.Equal(t, 1, src.looked, "the sources are looked at once a SourceInterval")
	h.now = h.now.Add(SourceInterval)
	h.notifier.Pass(t.Context())
	require.Equal(t, 2, src.looked)
	require.Zero(t, h.slack.Pending(), "found again, told once")
	require.Len(t, h.backstage.got(), 1)
}

// pacedEvents is a Source looked at once an hour.
type pacedEvents struct{ events }

func (*pacedEvents) Interval() time.Duration { return time.Hour }

func TestAPacedSourceIsLookedAtOnceItsInterval(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "cairn.db"))
	h := newHarness(t, st)
	minutely, hourly := &events{}, &pacedEvents{}
	h.notifier.sources, h.notifier.looked = []Source{minutely, hourly}, make([]time.Time, 2)

	for range 61 {
		h.notifier.Pass(t.Context())
		h.now = h.now.Add(SourceInterval)
	}
	require.Equal(t, 61, minutely.looked)
	require.Equal(t, 2, hourly.looked, "at the first pass and an hour later")
}
