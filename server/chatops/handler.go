package chatops

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/auth"
)

// API is Cairn's API as the handler calls it, in process: As makes a
// context whose calls are made as a principal, through every interceptor
// a call from the network passes.
type API struct {
	Provisioning cairnv1.ProvisioningServiceClient
	As           func(ctx context.Context, p *auth.Principal) context.Context
}

// Handler serves Slack's requests. Replies that outlast Slack's wait are
// posted to their response_url by goroutines the handler owns: Close
// waits for them.
type Handler struct {
	cfg     Config
	secret  string
	users   map[string]*auth.Principal // by Slack member ID
	catalog *catalogUsers              // nil: users alone
	api     API
	client  *http.Client
	logger  *slog.Logger
	now     func() time.Time
	replays *replays

	// callTimeout bounds a command's calls and its reply.
	callTimeout time.Duration
	// replies holds a slot for each reply being made; a command that
	// finds none free is told to try again.
	replies chan struct{}
	wg      sync.WaitGroup

	requests *prometheus.CounterVec // by endpoint and outcome
}

// Outcomes of a Slack request, as cairn_slack_requests_total counts them.
const (
	outcomeAccepted   = "accepted"
	outcomeUnsigned   = "unsigned"
	outcomeReplayed   = "replayed"
	outcomeTooLarge   = "too_large"
	outcomeUnmapped   = "unmapped_user"
	outcomeBusy       = "busy"
	outcomeBadRequest = "bad_request"
)

var outcomes = []string{outcomeAccepted, outcomeUnsigned, outcomeReplayed, outcomeTooLarge, outcomeUnmapped, outcomeBusy, outcomeBadRequest}

// Endpoints, as cairn_slack_requests_total names them.
const (
	endpointCommands      = "commands"
	endpointInteractivity = "interactivity"
)

func (h *Handler) count(endpoint, outcome string) {
	h.requests.WithLabelValues(endpoint, outcome).Inc()
}

// maxReplies bounds the replies made at once.
const maxReplies = 64

// New returns the handler of cfg, which should have passed Validate. The
// Slack users are made principals by users; callTimeout bounds each
// command.
func New(cfg Config, users *auth.Authenticator, api API, callTimeout time.Duration, logger *slog.Logger, registry prometheus.Registerer) (*Handler, error) {
	cfg = cfg.WithDefaults()
	secret, err := readSecret("signing secret", cfg.SigningSecretFile)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg: cfg, secret: secret, users: map[string]*auth.Principal{}, api: api,
		client: &http.Client{Timeout: 10 * time.Second}, logger: logger, now: time.Now,
		replays: newReplays(), callTimeout: callTimeout, replies: make(chan struct{}, maxReplies),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_slack_requests_total",
			Help: "Requests to the Slack endpoints, by endpoint (commands, interactivity) and outcome (accepted, unsigned, replayed, too_large, unmapped_user, busy, bad_request).",
		}, []string{"endpoint", "outcome"}),
	}
	for _, endpoint := range []string{endpointCommands, endpointInteractivity} {
		for _, outcome := range outcomes {
			h.requests.WithLabelValues(endpoint, outcome)
		}
	}
	for i, u := range cfg.Users {
		p, err := users.BackstageUser(u.User, append([]string{u.User}, u.Groups...))
		if errors.Is(err, auth.ErrNoBackstageUsers) {
			return nil, fmt.Errorf("slack: users are Backstage users, and %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("slack: users[%d]: %w", i, err)
		}
		h.users[u.SlackUser] = p
	}
	if k := cfg.Catalog; k.URL != "" {
		token, err := readSecret("catalog token", k.TokenFile)
		if err != nil {
			return nil, err
		}
		h.catalog = &catalogUsers{
			url: k.URL, token: token, annotation: cmp.Or(k.Annotation, DefaultSlackAnnotation),
			users: users, client: &http.Client{}, now: time.Now, found: map[string]lookup{},
		}
	}
	if err := registry.Register(h.requests); err != nil {
		return nil, err
	}
	return h, nil
}

// ServeHTTP serves Slack's two endpoints: POST /slack/commands (the
// slash command's Request URL) and POST /slack/interactivity (the app's
// Interactivity Request URL).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	case r.URL.Path == "/slack/commands":
		h.serveCommand(w, r)
	case r.URL.Path == "/slack/interactivity":
		h.serveInteraction(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Close waits for the replies under way, which finish within their call
// timeout.
func (h *Handler) Close() { h.wg.Wait() }

// verified is the body of a request Slack signed, or false once the
// refusal is written: 401 for a request that is not Slack's or was sent
// before, 413 for one too large. Nothing is read from a refused request.
func (h *Handler) verified(w http.ResponseWriter, r *http.Request, endpoint string) ([]byte, bool) {
	body, err := h.verifiedBody(r)
	switch {
	case errors.Is(err, errTooLarge):
		h.count(endpoint, outcomeTooLarge)
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return nil, false
	case errors.Is(err, errRemembers):
		h.count(endpoint, outcomeBusy)
		w.Header().Set("Retry-After", "10")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return nil, false
	case errors.Is(err, errReplayed):
		h.count(endpoint, outcomeReplayed)
		http.Error(w, "unauthorized: "+err.Error(), http.StatusUnauthorized)
		return nil, false
	case err != nil:
		h.count(endpoint, outcomeUnsigned)
		http.Error(w, "unauthorized: "+err.Error(), http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// principal is the Cairn principal of a Slack user: the one Users maps
// it to, else the catalog's user annotated with it; nil for none.
func (h *Handler) principal(ctx context.Context, slackUser string) (*auth.Principal, error) {
	if p, ok := h.users[slackUser]; ok {
		return p, nil
	}
	if h.catalog == nil {
		return nil, nil
	}
	return h.catalog.principal(ctx, slackUser)
}

// reply runs work, which makes the reply to a Slack request, and writes
// the reply as the response if it is ready within AckAfter; otherwise it
// answers ack at once and posts the reply to responseURL when it is. With
// no ack (a button's click, whose response Slack ignores), it answers 200
// at once and always posts the reply.
// The request is counted under outcome, or busy when no slot is free.
func (h *Handler) reply(w http.ResponseWriter, r *http.Request, endpoint, outcome, responseURL string, ack *slack.Msg, work func(ctx context.Context) *slack.Msg) {
	select {
	case h.replies <- struct{}{}:
	default:
		h.count(endpoint, outcomeBusy)
		writeMessage(w, ephemeral("Cairn is answering many Slack requests at once: try again in a moment."))
		return
	}
	h.count(endpoint, outcome)
	ready := make(chan *slack.Msg) // unbuffered: a reply is written or posted, never both
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer func() { <-h.replies }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.callTimeout)
		defer cancel()
		msg := work(ctx)
		if ack != nil {
			select {
			case ready <- msg:
				return
			default:
			}
		}
		h.post(ctx, responseURL, msg)
	}()
	if ack == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	timer := time.NewTimer(h.cfg.AckAfter)
	defer timer.Stop()
	select {
	case msg := <-ready:
		writeMessage(w, msg)
	case <-timer.C:
		writeMessage(w, ack)
	}
}

// post sends msg to a response_url, which must be one of Slack's.
func (h *Handler) post(ctx context.Context, responseURL string, msg *slack.Msg) {
	if !strings.HasPrefix(responseURL, h.cfg.ResponseURLPrefix) {
		h.logger.Warn("slack: not posting to a response_url outside responseUrlPrefix", "prefix", h.cfg.ResponseURLPrefix)
		return
	}
	webhook := &slack.WebhookMessage{
		Text: msg.Text, Blocks: &msg.Blocks, ResponseType: msg.ResponseType,
		ReplaceOriginal: msg.ReplaceOriginal, DeleteOriginal: msg.DeleteOriginal,
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, h.client, webhook); err != nil {
		h.logger.Warn("slack: posting a reply to its response_url failed", "error", err)
	}
}

func writeMessage(w http.ResponseWriter, msg *slack.Msg) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(msg) // a failure is Slack hanging up: nobody to tell
}

// readSecret is the trimmed content of a secret's file, which must hold
// one.
func readSecret(of, path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("slack: %s: %w", of, err)
	}
	secret := strings.TrimSpace(string(raw))
	if secret == "" {
		return "", fmt.Errorf("slack: %s: %s is empty", of, path)
	}
	return secret, nil
}
