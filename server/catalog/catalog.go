// Package catalog is the platform's view of every service: registration from
// Backstage catalog-info.yaml documents or structured fields, lookups,
// filtered listing, and the teams that own services.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/pagetoken"
	"github.com/cairn-dev/cairn/store"
)

// Store is what the catalog keeps its services in, and where it audits an
// admin handing a retired name to another team.
type Store interface {
	store.CatalogStore
	AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error)
}

// Catalog holds the catalog's rules over a store.
type Catalog struct {
	store Store
	teams entityref.Teams
}

// New returns a Catalog over s, whose owners make the teams of teams.
func New(s Store, teams entityref.Teams) *Catalog {
	return &Catalog{store: s, teams: teams}
}

// RegisterCatalogInfo registers the Component described by a Backstage
// catalog-info.yaml document. It reports whether the service was new.
func (c *Catalog) RegisterCatalogInfo(ctx context.Context, doc string) (*store.Service, bool, error) {
	svc, v := parseCatalogInfo(doc, c.teams)
	if err := apierr.Invalid(v...); err != nil {
		return nil, false, err
	}
	return c.upsert(ctx, svc, "")
}

// Register registers a service given field by field. When ifMatch is set,
// the service must exist with that etag.
func (c *Catalog) Register(ctx context.Context, svc *store.Service, ifMatch string) (*store.Service, bool, error) {
	if err := apierr.Invalid(validateService(svc, protoPaths, c.teams)...); err != nil {
		return nil, false, err
	}
	return c.upsert(ctx, svc, ifMatch)
}

func (c *Catalog) upsert(ctx context.Context, svc *store.Service, ifMatch string) (*store.Service, bool, error) {
	svc.Team, _ = c.teams.Owner(svc.Owner) // the owner was validated with the rest
	// The caller must act for the new owner, and for the current one: a team
	// cannot take over, or give away, a service that is not its own.
	if err := auth.RequireTeam(ctx, svc.Team, "change services of"); err != nil {
		return nil, false, err
	}
	existing, err := c.store.GetService(ctx, svc.Name)
	switch {
	case err == nil:
		if err := auth.RequireTeam(ctx, existing.Team, "change services of"); err != nil {
			return nil, false, err
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, false, err
	}
	svc.SourceTemplate = svc.Annotations[SourceTemplateAnnotation]
	svc.GoldenPath = svc.SourceTemplate != ""

	stored, created, err := c.store.UpsertService(ctx, svc, ifMatch)
	var held *store.NameHeldError
	if errors.As(err, &held) {
		if err := TakeRetiredName(ctx, c.store, held, svc.Team); err != nil {
			return nil, false, err
		}
		stored, created, err = c.store.UpsertService(ctx, svc, ifMatch)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, apierr.NotFound("service", svc.Name)
	case errors.Is(err, store.ErrEtagMismatch):
		return nil, false, apierr.EtagMismatch("service", svc.Name)
	case err != nil:
		return nil, false, err
	}
	return stored, created, nil
}

// RetiredNames is what TakeRetiredName writes of the store.
type RetiredNames interface {
	ReleaseRetiredName(ctx context.Context, name, team string) error
	AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error)
}

// TakeRetiredName hands a name another team retired, with its history, to
// team, when the caller is an admin, and audits it. Anyone else gets
// FAILED_PRECONDITION SERVICE_NAME_RETIRED, naming the team that holds the
// name: its deployments, incidents, cost and promotions stay that team's.
func TakeRetiredName(ctx context.Context, st RetiredNames, held *store.NameHeldError, team string) error {
	if !held.Retired {
		return &apierr.Error{
			Code: codes.AlreadyExists, Reason: "SERVICE_EXISTS",
			Message:  fmt.Sprintf("service %q is in the catalog already, owned by team %q", held.Name, held.Team),
			Metadata: map[string]string{"service": held.Name, "team": held.Team},
		}
	}
	if principal, ok := auth.FromContext(ctx); !ok || !principal.Has(auth.RoleAdmin) {
		holder := "a team Cairn did not record"
		if held.Team != "" {
			holder = fmt.Sprintf("team %q", held.Team)
		}
		return &apierr.Error{
			Code: codes.FailedPrecondition, Reason: "SERVICE_NAME_RETIRED",
			Message: fmt.Sprintf("service name %q was deleted from the catalog by %s, which keeps its history; "+
				"that team may register it again, or an admin may transfer it", held.Name, holder),
			Metadata: map[string]string{"service": held.Name, "team": held.Team},
		}
	}
	err := st.ReleaseRetiredName(ctx, held.Name, held.Team)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	_, err = st.AppendAuditEvent(ctx, store.AuditEvent{
		Time:      time.Now(),
		Principal: auth.Name(ctx),
		Action:    fmt.Sprintf("TransferServiceName from team %q to team %q", held.Team, team),
		Target:    "services/" + held.Name,
		Outcome:   "succeeded",
		Code:      codes.OK.String(),
	})
	return err
}

// Get returns the named service.
func (c *Catalog) Get(ctx context.Context, name string) (*store.Service, error) {
	svc, err := c.store.GetService(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound("service", name)
	}
	return svc, err
}

// Delete removes the named service from the catalog. When ifMatch is set,
// only if its etag still matches.
func (c *Catalog) Delete(ctx context.Context, name, ifMatch string) error {
	existing, err := c.Get(ctx, name)
	if err != nil {
		return err
	}
	if err := auth.RequireTeam(ctx, existing.Team, "change services of"); err != nil {
		return err
	}
	err = c.store.DeleteService(ctx, name, ifMatch)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierr.NotFound("service", name)
	case errors.Is(err, store.ErrEtagMismatch):
		return apierr.EtagMismatch("service", name)
	}
	return err
}

// ListQuery selects services. Owner takes a team name or entity reference.
type ListQuery struct {
	Owner, System, Lifecycle, Tag string
	GoldenPath                    *bool
	PageSize                      int32
	PageToken                     string
}

// List returns one page of services in name order, and the token of the
// next page ("" on the last).
func (c *Catalog) List(ctx context.Context, q ListQuery) ([]*store.Service, string, error) {
	filter := store.ServiceFilter{System: q.System, Lifecycle: q.Lifecycle, Tag: q.Tag, GoldenPath: q.GoldenPath}
	var v violations
	if q.Owner != "" {
		team, err := c.teams.Owner(q.Owner)
		if err != nil {
			v.add("owner", "%v", err)
		}
		filter.Team = team
	}
	query := filterKey(filter)
	after := pageAfter(&v, q.PageToken, query)
	if err := apierr.Invalid(v...); err != nil {
		return nil, "", err
	}
	size := pagetoken.Size(q.PageSize)
	services, err := c.store.ListServices(ctx, filter, after, size+1)
	if err != nil {
		return nil, "", err
	}
	services, next := pagetoken.Page(services, size, query, func(s *store.Service) string { return s.Name })
	return services, next, nil
}

// ListTeams returns one page of the teams that own services, in name order,
// and the token of the next page ("" on the last).
func (c *Catalog) ListTeams(ctx context.Context, pageSize int32, pageToken string) ([]store.Team, string, error) {
	const query = "teams"
	var v violations
	after := pageAfter(&v, pageToken, query)
	if err := apierr.Invalid(v...); err != nil {
		return nil, "", err
	}
	size := pagetoken.Size(pageSize)
	teams, err := c.store.ListTeams(ctx, after, size+1)
	if err != nil {
		return nil, "", err
	}
	teams, next := pagetoken.Page(teams, size, query, func(t store.Team) string { return t.Name })
	return teams, next, nil
}

// pageAfter returns the key a page token's page starts after ("" for the
// first page), or records why the token is refused.
func pageAfter(v *violations, token, query string) string {
	if token == "" {
		return ""
	}
	after, err := pagetoken.Decode(token, query)
	if err != nil {
		v.add("page_token", "%v", err)
	}
	return after
}

// filterKey describes a filter for page tokens: a token is valid only with
// the filter it was issued for.
func filterKey(f store.ServiceFilter) string {
	golden := ""
	if f.GoldenPath != nil {
		golden = strconv.FormatBool(*f.GoldenPath)
	}
	return fmt.Sprintf("team=%q system=%q lifecycle=%q tag=%q golden=%s", f.Team, f.System, f.Lifecycle, f.Tag, golden)
}
