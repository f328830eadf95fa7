// Package notify tells people what Cairn did and what waits for them: a
// promotion requested (to the owning team), approved or denied (to its
// requester), a failed provisioning or sync, a team's budget crossed and
// a cost anomaly (from its Sources), in the team's
// Slack channel and in Backstage's notifications. Each message is kept in the store's outbox before it is
// sent, keyed by its event and destination, and leased to one sender at a
// time: a crash, a restart or several replicas neither lose nor repeat
// one, but for one sent just before a crash, which is sent again (at
// least once). A destination that fails is retried with backoff and never
// holds up the API.
package notify

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is where notifications go, set in the YAML file
// (`notifications:`).
type Config struct {
	// Slack gives a team's channel by its incoming webhook.
	Slack []SlackChannel `yaml:"slack"`
	// Backstage sends to the app's notifications backend.
	Backstage BackstageConfig `yaml:"backstage"`
	// BackstageURL, when set, links each message to the service's page.
	BackstageURL string `yaml:"backstageUrl"`
	// Interval is how often the outbox is looked at; 5s by default.
	Interval time.Duration `yaml:"interval"`
}

// SlackChannel is one team's channel.
type SlackChannel struct {
	Team string `yaml:"team"`
	// WebhookURLFile holds the channel's incoming webhook URL, a secret.
	WebhookURLFile string `yaml:"webhookUrlFile"`
}

// BackstageConfig is the Backstage notifications backend, which Cairn
// calls as an external caller with a static access token of its own
// (backend.auth.externalAccess in the app's config).
type BackstageConfig struct {
	// URL is the app's backend, such as http://backstage:7007.
	URL string `yaml:"url"`
	// TokenFile holds the access token.
	TokenFile string `yaml:"tokenFile"`
}

// DefaultInterval is how often the outbox is looked at.
const DefaultInterval = 5 * time.Second

// Enabled reports whether any destination is configured.
func (c Config) Enabled() bool { return len(c.Slack) > 0 || c.Backstage.URL != "" }

// Validate reports every problem of c at once, prefixed "notifications:".
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("notifications: "+format, a...)) }
	teams := map[string]bool{}
	for i, ch := range c.Slack {
		if ch.Team == "" || ch.WebhookURLFile == "" {
			bad("slack[%d]: give team and webhookUrlFile", i)
		}
		if teams[ch.Team] {
			bad("slack[%d]: team %s has two channels", i, ch.Team)
		}
		teams[ch.Team] = true
	}
	if b := c.Backstage; b.URL != "" || b.TokenFile != "" {
		if u, err := url.Parse(b.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("backstage.url %q: want the app's backend, such as http://backstage:7007", b.URL)
		}
		if b.TokenFile == "" {
			bad("backstage.tokenFile is required: Cairn calls the notifications backend with a static access token")
		}
	}
	if c.Interval < 0 {
		bad("interval %s: must not be negative", c.Interval)
	}
	return errors.Join(errs...)
}

// readSecret is the trimmed content of a secret's file.
func readSecret(of, path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("notifications: %s: %w", of, err)
	}
	secret := strings.TrimSpace(string(raw))
	if secret == "" {
		return "", fmt.Errorf("notifications: %s: %s is empty", of, path)
	}
	return secret, nil
}
