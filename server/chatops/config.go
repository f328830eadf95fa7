// Package chatops serves Slack: the /platform slash command (create-service,
// status, promote, help) and the Approve and Deny buttons of a promotion
// request. Every request is verified with Slack's signing secret, its
// Slack user is mapped to the Backstage user it is, and what it asks goes
// through Cairn's API as that person, so that every rule of the API (team
// scope, the approver is not the requester, the audit log names the
// person) holds in Slack too.
package chatops

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Config is the Slack app's side of Cairn, set in the YAML file (`slack:`)
// but for the signing secret's file, which --slack-signing-secret-file
// also sets.
type Config struct {
	// SigningSecretFile holds the Slack app's signing secret; Slack is off
	// when it is empty.
	SigningSecretFile string `yaml:"signingSecretFile"`
	// Users maps Slack users to the Backstage users they are. A Slack user
	// not listed is told so, and nothing changes.
	Users []User `yaml:"users"`
	// ResponseURLPrefix is what every response_url must start with before
	// Cairn posts to it; Slack's own by default.
	ResponseURLPrefix string `yaml:"responseUrlPrefix"`
	// RepositoryURLPattern makes a create-service's repository when the
	// command names none: {name} is replaced by the service's name, as the
	// platform's repositories are named. Empty: --repo is required to
	// deploy.
	RepositoryURLPattern string `yaml:"repositoryUrlPattern"`
	// Catalog, when set, maps the Slack users Users does not list by the
	// Backstage catalog's user entities.
	Catalog CatalogConfig `yaml:"catalog"`
	// BackstageURL, when set, links Slack messages to the service's page.
	BackstageURL string `yaml:"backstageUrl"`
	// AckAfter is how long a command may run before Slack is answered
	// "working on it" and the reply follows at its response_url; Slack
	// waits 3 seconds.
	AckAfter time.Duration `yaml:"ackAfter"`
}

// User is one Slack user and the Backstage user they are.
type User struct {
	// SlackUser is the Slack member ID, such as U024BE7LH.
	SlackUser string `yaml:"slackUser"`
	// User is the Backstage user entity, such as user:default/jane.
	User string `yaml:"user"`
	// Groups are the groups the user is a member of, as Backstage's
	// ownership references list them (group:default/team-orders): they make
	// the user's teams, and may make them an approver or an admin, as for
	// their Backstage tokens.
	Groups []string `yaml:"groups"`
}

// DefaultResponseURLPrefix is where Slack's response URLs live.
const DefaultResponseURLPrefix = "https://hooks.slack.com/"

// DefaultAckAfter leaves half a second of Slack's 3 to answer in.
const DefaultAckAfter = 2500 * time.Millisecond

// Enabled reports whether Cairn serves Slack.
func (c Config) Enabled() bool { return c.SigningSecretFile != "" }

// WithDefaults fills the empty settings.
func (c Config) WithDefaults() Config {
	if c.ResponseURLPrefix == "" {
		c.ResponseURLPrefix = DefaultResponseURLPrefix
	}
	if c.AckAfter == 0 {
		c.AckAfter = DefaultAckAfter
	}
	return c
}

var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// Validate reports every problem of c at once, prefixed "slack:".
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("slack: "+format, a...)) }
	if !c.Enabled() && (len(c.Users) > 0 || c.Catalog.URL != "") {
		bad("users or a catalog are given but signingSecretFile is not set")
	}
	if k := c.Catalog; k.URL != "" || k.TokenFile != "" {
		if u, err := url.Parse(k.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("catalog.url %q: want the Backstage backend, such as http://backstage:7007", k.URL)
		}
		if k.TokenFile == "" {
			bad("catalog.tokenFile is required: Cairn reads the catalog with a static token")
		}
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		if !slackUserID.MatchString(u.SlackUser) {
			bad("users[%d]: slackUser %q is not a Slack member ID such as U024BE7LH", i, u.SlackUser)
		}
		if seen[u.SlackUser] {
			bad("users[%d]: slackUser %s is listed twice", i, u.SlackUser)
		}
		seen[u.SlackUser] = true
		if !strings.HasPrefix(u.User, "user:") {
			bad("users[%d]: user %q must be a user entity reference such as user:default/jane", i, u.User)
		}
		for _, g := range u.Groups {
			if !strings.HasPrefix(g, "group:") {
				bad("users[%d]: group %q must be a group entity reference such as group:default/team-orders", i, g)
			}
		}
	}
	if p := c.ResponseURLPrefix; p != "" {
		if u, err := url.Parse(p); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.HasSuffix(p, "/") {
			bad("responseUrlPrefix %q: want an http(s) URL ending in /, such as %s", p, DefaultResponseURLPrefix)
		}
	}
	if p := c.RepositoryURLPattern; p != "" && !strings.Contains(p, "{name}") {
		bad("repositoryUrlPattern %q: must contain {name}", p)
	}
	if c.AckAfter < 0 || c.AckAfter > 3*time.Second {
		bad("ackAfter %s: must be between 0 and Slack's 3s", c.AckAfter)
	}
	return errors.Join(errs...)
}
