package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
)

// Store is what the notifier reads and writes.
type Store interface {
	store.NotificationStore
	GetProvisioning(ctx context.Context, service string) (store.Provisioning, error)
}

// Notifier turns events into the outbox's notifications and sends them.
type Notifier struct {
	cfg       Config
	store     Store
	webhooks  map[string]string // team -> its channel's incoming webhook URL
	backstage string            // the notifications backend's token; "" for none
	client    *http.Client
	logger    *slog.Logger
	now       func() time.Time
	sent      *prometheus.CounterVec // by destination kind and outcome

	sources []Source
	looked  []time.Time // when each source was last looked at
}

// SourceInterval is how often the sources are looked at: what they look
// at (a month's spend) changes slowly, and costs more to compute than the
// outbox.
const SourceInterval = time.Minute

// Sending: how many at once, how long a claim holds them, the backoff of
// a destination that fails, and when to give up.
const (
	batch       = 20
	lease       = time.Minute
	firstRetry  = 10 * time.Second
	maxRetry    = time.Hour
	maxAttempts = 12
	// scanLimit bounds the promotions turned into notifications a pass.
	scanLimit = 200
)

// New returns the notifier of cfg, which should have passed Validate,
// reading its secrets' files now.
func New(cfg Config, st Store, sources []Source, logger *slog.Logger, registry prometheus.Registerer) (*Notifier, error) {
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	n := &Notifier{
		cfg: cfg, store: st, webhooks: map[string]string{}, client: &http.Client{Timeout: 10 * time.Second},
		logger: logger, now: time.Now, sources: sources, looked: make([]time.Time, len(sources)),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_notifications_total",
			Help: "Notifications Cairn tried to send, by destination (slack, backstage) and outcome (sent, retried, gave_up).",
		}, []string{"destination", "outcome"}),
	}
	for _, ch := range cfg.Slack {
		hook, err := readSecret("slack webhook of "+ch.Team, ch.WebhookURLFile)
		if err != nil {
			return nil, err
		}
		if u, err := url.Parse(hook); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("notifications: slack webhook of %s in %s is not a URL", ch.Team, ch.WebhookURLFile)
		}
		n.webhooks[ch.Team] = hook
	}
	if cfg.Backstage.URL != "" {
		token, err := readSecret("backstage token", cfg.Backstage.TokenFile)
		if err != nil {
			return nil, err
		}
		n.backstage = token
	}
	for _, d := range []string{"slack", "backstage"} {
		for _, o := range []string{"sent", "retried", "gave_up"} {
			n.sent.WithLabelValues(d, o)
		}
	}
	if err := registry.Register(n.sent); err != nil {
		return nil, err
	}
	return n, nil
}

// Run looks at the outbox every interval until ctx is done. Every replica
// may run it: the outbox's keys and leases keep each message to one.
func (n *Notifier) Run(ctx context.Context) {
	ticker := time.NewTicker(n.cfg.Interval)
	defer ticker.Stop()
	for {
		n.Pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Pass enqueues the notifications of the events since the last pass, then
// sends what is due.
func (n *Notifier) Pass(ctx context.Context) {
	if err := n.enqueuePromotions(ctx); err != nil && ctx.Err() == nil {
		n.logger.Warn("notifications: reading promotions to notify", "error", err)
	}
	now := n.now()
	for i, src := range n.sources {
		interval := SourceInterval
		if p, ok := src.(PacedSource); ok {
			interval = p.Interval()
		}
		if now.Sub(n.looked[i]) < interval {
			continue
		}
		n.looked[i] = now
		if err := n.enqueueEvents(ctx, src); err != nil && ctx.Err() == nil {
			n.logger.Warn("notifications: looking for events", "error", err)
		}
	}
	if err := n.send(ctx); err != nil && ctx.Err() == nil {
		n.logger.Warn("notifications: sending", "error", err)
	}
}

// enqueuePromotions keeps the notifications of each promotion whose state
// is news, then marks it notified: a crash between the two enqueues them
// again, which keeps the ones kept.
func (n *Notifier) enqueuePromotions(ctx context.Context) error {
	promotions, err := n.store.PromotionsToNotify(ctx, scanLimit)
	if err != nil {
		return err
	}
	for _, p := range promotions {
		prov, err := n.store.GetProvisioning(ctx, p.Service)
		if errors.Is(err, store.ErrNotFound) {
			// Its service is gone: nobody to tell.
		} else if err != nil {
			return err
		} else if e, ok := promotionEvent(p, prov); ok {
			if _, err := n.store.EnqueueNotifications(ctx, n.notificationsOf(e)); err != nil {
				return err
			}
		}
		if err := n.store.MarkPromotionNotified(ctx, p.Service, p.ID, p.State); err != nil {
			return err
		}
	}
	return nil
}

// Event is something to tell: Key names it (the same event, found again,
// has the same key), Recipient is who is told in Backstage (a user or a
// group entity reference), and the team's channel is told too.
type Event struct {
	Key, Kind, Team, Service, Title, Text, Recipient string
}

// A Source finds events by looking, such as a team's budget crossed. It
// is looked at once a SourceInterval, or a PacedSource's Interval.
type Source interface {
	Events(ctx context.Context) ([]Event, error)
}

// A PacedSource is looked at less often than SourceInterval: what it
// computes costs more than what it finds is worth a minute sooner.
type PacedSource interface {
	Source
	Interval() time.Duration
}

// promotionEvent is the event of a promotion's state: a request is told
// to the owning team, a decision to the requester (and the team's
// channel); false for a state with nothing to tell.
func promotionEvent(p store.Promotion, prov store.Provisioning) (Event, bool) {
	team := prov.Spec.Team
	e := Event{Key: fmt.Sprintf("promotion/%s/%d/%s", p.Service, p.ID, p.State), Team: team, Service: p.Service}
	what := fmt.Sprintf("%s of %s into %s", p.Revision, p.Service, p.Environment)
	if p.Rollback {
		what = fmt.Sprintf("the rollback of %s in %s to %s", p.Service, p.Environment, p.Revision)
	}
	switch p.State {
	case "pending":
		e.Kind, e.Title = "promotion_requested", "Promotion waiting for an approver: "+p.Service
		e.Text = fmt.Sprintf("%s asks to promote %s. An approver of %s other than the requester decides.", p.Requester, what, team)
		e.Recipient = prov.Spec.Owner
	case "approved":
		e.Kind, e.Title = "promotion_approved", "Promotion approved: "+p.Service
		e.Text = fmt.Sprintf("%s approved %s, which %s asked for; syncing.", p.Decider, what, p.Requester)
		e.Recipient = p.Requester
	case "denied":
		e.Kind, e.Title = "promotion_denied", "Promotion denied: "+p.Service
		e.Text = fmt.Sprintf("%s denied %s, which %s asked for.", p.Decider, what, p.Requester)
		e.Recipient = p.Requester
	default:
		return Event{}, false
	}
	if p.Reason != "" && p.State != "pending" {
		e.Text += " Reason: " + p.Reason
	}
	return e, true
}

// notificationsOf are an event's messages, one per destination configured
// for it: the team's channel, and the recipient in Backstage.
func (n *Notifier) notificationsOf(e Event) []store.Notification {
	base := store.Notification{Kind: e.Kind, Team: e.Team, Service: e.Service, Title: e.Title, Text: e.Text, Link: n.link(e.Service)}
	var out []store.Notification
	if _, ok := n.webhooks[e.Team]; ok {
		m := base
		m.Destination = "slack:" + e.Team
		m.Key = e.Key + " " + m.Destination
		out = append(out, m)
	}
	if ref, ok := entityref.Canonical(e.Recipient, "group"); n.backstage != "" && ok && (ref.Kind == "user" || ref.Kind == "group") {
		m := base
		m.Destination = "backstage:" + ref.String()
		m.Key = e.Key + " " + m.Destination
		out = append(out, m)
	}
	return out
}

func (n *Notifier) link(service string) string {
	if n.cfg.BackstageURL == "" || service == "" {
		return ""
	}
	return strings.TrimSuffix(n.cfg.BackstageURL, "/") + "/catalog/default/component/" + service
}

// enqueueEvents keeps the notifications of what src finds; those of an
// event found before are kept already.
func (n *Notifier) enqueueEvents(ctx context.Context, src Source) error {
	events, err := src.Events(ctx)
	if err != nil {
		return err
	}
	var ns []store.Notification
	for _, e := range events {
		ns = append(ns, n.notificationsOf(e)...)
	}
	if len(ns) == 0 {
		return nil
	}
	_, err = n.store.EnqueueNotifications(ctx, ns)
	return err
}

// send delivers what is due, a batch at a time.
func (n *Notifier) send(ctx context.Context) error {
	for {
		now := n.now()
		claimed, err := n.store.ClaimNotifications(ctx, now, now.Add(lease), batch)
		if err != nil || len(claimed) == 0 {
			return err
		}
		for _, m := range claimed {
			n.deliver(ctx, m)
		}
		if len(claimed) < batch {
			return nil
		}
	}
}

// deliver sends one notification and records how it went.
func (n *Notifier) deliver(ctx context.Context, m store.Notification) {
	kind, _, _ := strings.Cut(m.Destination, ":")
	err := n.post(ctx, m)
	if err == nil {
		n.sent.WithLabelValues(kind, "sent").Inc()
		if err := n.store.MarkNotificationSent(ctx, m.ID, n.now()); err != nil {
			n.logger.Warn("notifications: recording a sent notification", "key", m.Key, "error", err)
		}
		return
	}
	next := time.Time{}
	outcome := "gave_up"
	if m.Attempts+1 < maxAttempts && !errors.Is(err, errPermanent) {
		next = n.now().Add(min(firstRetry<<m.Attempts, maxRetry))
		outcome = "retried"
	}
	n.sent.WithLabelValues(kind, outcome).Inc()
	n.logger.Warn("notifications: sending failed", "key", m.Key, "attempt", m.Attempts+1, "outcome", outcome, "error", err)
	if err := n.store.RetryNotification(ctx, m.ID, err.Error(), next); err != nil {
		n.logger.Warn("notifications: recording a failed notification", "key", m.Key, "error", err)
	}
}

// errPermanent marks a failure that trying again will not mend.
var errPermanent = errors.New("will not succeed")

// post sends m to its destination. Its errors never hold a webhook URL,
// which is a secret.
func (n *Notifier) post(ctx context.Context, m store.Notification) error {
	kind, target, _ := strings.Cut(m.Destination, ":")
	switch kind {
	case "slack":
		hook, ok := n.webhooks[target]
		if !ok {
			return fmt.Errorf("%w: no Slack channel is configured for team %s", errPermanent, target)
		}
		text := fmt.Sprintf("*%s*\n%s", slackEscape(m.Title), slackEscape(m.Text))
		if m.Link != "" {
			text += fmt.Sprintf("\n<%s|View in Backstage>", m.Link)
		}
		msg := &slack.WebhookMessage{Text: m.Title, Blocks: &slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
		}}}
		return redacted(slack.PostWebhookCustomHTTPContext(ctx, hook, n.client, msg))
	case "backstage":
		if n.backstage == "" {
			return fmt.Errorf("%w: the Backstage notifications backend is not configured", errPermanent)
		}
		return n.postBackstage(ctx, target, m)
	}
	return fmt.Errorf("%w: unknown destination %q", errPermanent, m.Destination)
}

// postBackstage creates a Backstage notification for recipient (a user or
// a group). Its scope is the notification's key: a notification sent
// again updates the one Backstage holds rather than add one.
func (n *Notifier) postBackstage(ctx context.Context, recipient string, m store.Notification) error {
	// Backstage opens an absolute link in a new tab, as a link out of the
	// app; one into the app goes relative, so it opens where the user is.
	link := m.Link
	if rest, ok := strings.CutPrefix(link, strings.TrimSuffix(n.cfg.BackstageURL, "/")); ok && strings.HasPrefix(rest, "/") {
		link = rest
	}
	payload := map[string]any{
		"title": m.Title, "description": m.Text, "severity": "normal",
		"topic": "cairn: " + m.Kind, "scope": m.Key,
	}
	if link != "" {
		payload["link"] = link
	}
	body, err := json.Marshal(map[string]any{
		"recipients": map[string]any{"type": "entity", "entityRef": []string{recipient}},
		"payload":    payload,
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		strings.TrimSuffix(n.cfg.Backstage.URL, "/")+"/api/notifications/notifications", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+n.backstage)
	resp, err := n.client.Do(req)
	if err != nil {
		return redacted(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: Backstage answered %s", errPermanent, resp.Status)
	}
	return fmt.Errorf("Backstage answered %s", resp.Status)
}

// redacted is err without the URL a *url.Error names.
func redacted(err error) error {
	var u *url.Error
	if errors.As(err, &u) {
		return fmt.Errorf("%s: %w", u.Op, u.Err)
	}
	return err
}

func slackEscape(text string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
}
