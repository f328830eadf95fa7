// Package slacktest stands in for Slack in tests: it signs requests as
// Slack signs them, with the test's signing secret, and receives what
// Cairn posts to a response_url or an incoming webhook.
package slacktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Sign returns the headers Slack sends with body, signed with secret and
// stamped at ts.
func Sign(secret string, ts time.Time, body string) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + stamp + ":" + body))
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// Receiver is an HTTP server that takes the JSON messages posted to it,
// each with the path it was posted to under "path".
type Receiver struct {
	URL    string // with no trailing slash
	posted chan map[string]any
	// failing, while set, answers 503 and keeps nothing; refused counts
	// those answers.
	failing, refused atomic.Int64
}

// SetFailing makes the receiver answer 503 (true) or take messages again.
func (r *Receiver) SetFailing(failing bool) {
	if failing {
		r.failing.Store(1)
	} else {
		r.failing.Store(0)
	}
}

// Refused is how many messages the receiver refused while failing.
func (r *Receiver) Refused() int64 { return r.refused.Load() }

// NewReceiver starts a Receiver, closed when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{posted: make(chan map[string]any, 64)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.failing.Load() == 1 {
			r.refused.Add(1)
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		var msg map[string]any
		if err := json.NewDecoder(req.Body).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		msg["path"] = req.URL.Path
		r.posted <- msg
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Next is the next message posted, failing the test after 15 seconds.
func (r *Receiver) Next(t testing.TB) map[string]any {
	t.Helper()
	select {
	case msg := <-r.posted:
		return msg
	case <-time.After(15 * time.Second):
		t.Fatal("nothing was posted to the stand-in for Slack")
		return nil
	}
}

// Pending is how many messages were posted and not taken yet.
func (r *Receiver) Pending() int { return len(r.posted) }

// Text is every text of a Block Kit message's blocks, joined by newlines.
func Text(msg map[string]any) string {
	var parts []string
	blocks, _ := msg["blocks"].([]any)
	for _, b := range blocks {
		if t, ok := b.(map[string]any)["text"].(map[string]any); ok {
			parts = append(parts, t["text"].(string))
		}
	}
	return strings.Join(parts, "\n")
}

// Buttons are the action IDs and values of a message's buttons, as
// "action_id=value".
func Buttons(t testing.TB, msg map[string]any) []string {
	t.Helper()
	var buttons []string
	blocks, _ := msg["blocks"].([]any)
	for _, b := range blocks {
		elements, _ := b.(map[string]any)["elements"].([]any)
		for _, e := range elements {
			e := e.(map[string]any)
			require.Equal(t, "button", e["type"])
			buttons = append(buttons, e["action_id"].(string)+"="+stringOf(e["value"]))
		}
	}
	return buttons
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// Response is Cairn's answer to a request Slack would send: its status,
// its body, and the body as JSON when it is.
type Response struct {
	Status int
	Raw    string
	Body   map[string]any
}

// Send posts body to url with header, as Slack posts a command or an
// interaction.
func Send(t testing.TB, url, body string, header http.Header) Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := Response{Status: resp.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}
