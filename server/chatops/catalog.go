package chatops

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/server/auth"
)

// CatalogConfig looks up Slack users Users does not list in Backstage's
// catalog: the user entity whose annotation holds their Slack member ID.
type CatalogConfig struct {
	// URL is the Backstage backend, such as http://backstage:7007; empty:
	// Users alone map Slack users.
	URL string `yaml:"url"`
	// TokenFile holds a static token the catalog accepts from Cairn
	// (backend.auth.externalAccess), good for the catalog alone.
	TokenFile string `yaml:"tokenFile"`
	// Annotation holds a user's Slack member ID; slack.com/user_id by
	// default.
	Annotation string `yaml:"annotation"`
}

// DefaultSlackAnnotation is where a Backstage user entity keeps its Slack
// member ID.
const DefaultSlackAnnotation = "slack.com/user_id"

// Looking users up: how long an answer is kept, how many are, and how
// long a lookup may take of Slack's 3 seconds.
const (
	lookupTTL     = 5 * time.Minute
	maxLookups    = 10_000
	lookupTimeout = 1500 * time.Millisecond
)

var errCatalogUnavailable = errors.New("the catalog cannot be asked now")

// catalogUsers finds Slack users in the catalog and keeps what it found.
type catalogUsers struct {
	url, token, annotation string
	users                  *auth.Authenticator
	client                 *http.Client
	now                    func() time.Time

	mu    sync.Mutex
	found map[string]lookup // by Slack member ID
}

type lookup struct {
	principal *auth.Principal // nil: no such user
	at        time.Time
}

// principal is the catalog's user of slackUser, nil for none.
func (c *catalogUsers) principal(ctx context.Context, slackUser string) (*auth.Principal, error) {
	now := c.now()
	c.mu.Lock()
	if l, ok := c.found[slackUser]; ok && now.Sub(l.at) < lookupTTL {
		c.mu.Unlock()
		return l.principal, nil
	}
	c.mu.Unlock()

	p, err := c.ask(ctx, slackUser)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.found) >= maxLookups {
		for id, l := range c.found {
			if now.Sub(l.at) >= lookupTTL {
				delete(c.found, id)
			}
		}
		if len(c.found) >= maxLookups {
			c.found = map[string]lookup{} // a burst of users, all recent: start again
		}
	}
	c.found[slackUser] = lookup{principal: p, at: now}
	return p, nil
}

// catalogEntity is what Cairn reads of a user entity.
type catalogEntity struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Relations []struct {
		Type      string `json:"type"`
		TargetRef string `json:"targetRef"`
	} `json:"relations"`
}

// ask asks the catalog for the user entity annotated with slackUser, a
// member ID as Slack signs it (letters and digits only: it cannot add a
// term to the filter).
func (c *catalogUsers) ask(ctx context.Context, slackUser string) (*auth.Principal, error) {
	if !slackUserID.MatchString(slackUser) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	query := url.Values{
		"filter": {"kind=user,metadata.annotations." + c.annotation + "=" + slackUser},
		"fields": {"kind,metadata.name,metadata.namespace,relations"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.url, "/")+"/api/catalog/entities?"+query.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errCatalogUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: the catalog answered %s", errCatalogUnavailable, resp.Status)
	}
	var entities []catalogEntity
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&entities); err != nil {
		return nil, fmt.Errorf("%w: %v", errCatalogUnavailable, err)
	}
	if len(entities) != 1 {
		// None, or several claiming one Slack user: nobody to act as.
		return nil, nil
	}
	e := entities[0]
	ref := fmt.Sprintf("user:%s/%s", cmp.Or(e.Metadata.Namespace, "default"), e.Metadata.Name)
	ownership := []string{ref}
	for _, r := range e.Relations {
		if r.Type == "memberOf" {
			ownership = append(ownership, r.TargetRef)
		}
	}
	p, err := c.users.BackstageUser(ref, ownership)
	if err != nil {
		return nil, nil
	}
	return p, nil
}
