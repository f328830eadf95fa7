package chatops

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// MaxBodyBytes bounds a Slack request: a slash command or a button's
// payload is a few kilobytes.
const MaxBodyBytes = 64 << 10

// replayWindow is how far a request's timestamp may be from now, as Slack
// signs it (slack-go refuses more). A signature is remembered for twice
// that: a request stamped up to a window ahead stays valid for two.
const replayWindow = 5 * time.Minute

// maxRemembered bounds the signatures remembered against replays. Only
// requests Slack signed are remembered, so only Slack's own traffic fills
// it; when it is full a request is refused rather than let through
// unchecked.
const maxRemembered = 100_000

var (
	errUnsigned  = errors.New("the request is not signed by Slack")
	errReplayed  = errors.New("the request was sent before")
	errTooLarge  = errors.New("the request is larger than a Slack request")
	errRemembers = errors.New("too many recent requests to check this one for a replay")
)

// verifiedBody reads r's body, at most MaxBodyBytes, and returns it if
// Slack signed it with secret within the replay window and it was not
// seen before.
func (h *Handler) verifiedBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, err
	}
	verifier, err := slack.NewSecretsVerifier(r.Header, h.secret)
	if err != nil {
		return nil, errUnsigned
	}
	if _, err := verifier.Write(body); err != nil {
		return nil, err
	}
	if err := verifier.Ensure(); err != nil {
		return nil, errUnsigned
	}
	if err := h.replays.remember(r.Header.Get("X-Slack-Signature"), h.now()); err != nil {
		return nil, err
	}
	return body, nil
}

// replays remembers the signatures of the requests verified lately,
// oldest first. Each replica remembers its own: a replay sent to another
// replica within the window meets the API's own idempotency instead (each
// command's request id, a decided promotion's PROMOTION_DECIDED).
type replays struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	order []string
}

func newReplays() *replays { return &replays{seen: map[string]time.Time{}} }

// remember records signature at now, or says it was seen within the
// window.
func (r *replays) remember(signature string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Forget what the window has left behind; it is at the front.
	for len(r.order) > 0 && now.Sub(r.seen[r.order[0]]) > 2*replayWindow {
		delete(r.seen, r.order[0])
		r.order = r.order[1:]
	}
	if _, ok := r.seen[signature]; ok {
		return errReplayed
	}
	if len(r.order) >= maxRemembered {
		return errRemembers
	}
	r.seen[signature] = now
	r.order = append(r.order, signature)
	return nil
}
