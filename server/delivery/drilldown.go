package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/pagetoken"
	"github.com/cairn-dev/cairn/store"
)

// The drill-down's bounds: a page carries each deployment's commits, so it
// holds fewer than other lists; a range is at most the event window's
// default reach, and defaults to the DORA window's.
const (
	maxDrillDownPage  = 100
	maxDrillDownRange = 366 * day
	defaultRange      = DefaultWindowDays * day
)

// TimeRange is a drill-down's range, [From, To); zero ends take their
// defaults: To now, From 30 days before To.
type TimeRange struct {
	From, To time.Time
}

// DeploymentFilter selects the deployments ListDeployments lists.
type DeploymentFilter struct {
	Environment, Status string // "" for every one
	Finished            TimeRange
}

// IncidentFilter selects the incidents ListIncidents lists.
type IncidentFilter struct {
	State  string // store.IncidentOpen, store.IncidentResolved, or "" for both
	Opened TimeRange
}

// Production says whether an environment is a production-like one, whose
// deployments DORA counts.
func (s *Service) Production(environment string) bool {
	return slices.Contains(s.production, environment)
}

// ListDeployments lists a page of the deployments of parent
// (`services/{service}` or `teams/{team}`), newest first, with their
// commits and the incidents charged to them, and the next page's token.
// Any viewer reads them, as they read the DORA figures.
func (s *Service) ListDeployments(ctx context.Context, parent string, f DeploymentFilter, pageSize int32, pageToken string) ([]store.ListedDeployment, string, error) {
	query := fmt.Sprintf("deployments %s %q %q %s", parent, f.Environment, f.Status, rangeKey(f.Finished))
	page, err := s.page(ctx, parent, "finished", f.Finished, pageSize, pageToken, query)
	if err != nil {
		return nil, "", err
	}
	q := store.DeploymentQuery{
		Services: page.services, Environment: f.Environment, Status: f.Status,
		FinishedFrom: page.from, FinishedTo: page.to, Limit: page.size + 1,
	}
	if page.after != "" {
		micros, id, ok := strings.Cut(page.after, ":")
		at, err1 := strconv.ParseInt(micros, 10, 64)
		n, err2 := strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, "", invalidToken(pagetoken.ErrInvalid)
		}
		q.AfterFinished, q.AfterID = time.UnixMicro(at).UTC(), n
	}
	deployments, err := s.store.ListDeployments(ctx, q)
	if err != nil {
		return nil, "", err
	}
	deployments, next := pagetoken.Page(deployments, page.size, query, func(d store.ListedDeployment) string {
		return page.rangePrefix + fmt.Sprintf("%d:%d", d.FinishedAt.UnixMicro(), d.ID)
	})
	return deployments, next, nil
}

// ListIncidents lists a page of the incidents of parent, newest first,
// each with the deployment it is charged to, and the next page's token.
func (s *Service) ListIncidents(ctx context.Context, parent string, f IncidentFilter, pageSize int32, pageToken string) ([]store.ChargedIncident, string, error) {
	query := fmt.Sprintf("incidents %s %q %s", parent, f.State, rangeKey(f.Opened))
	page, err := s.page(ctx, parent, "opened", f.Opened, pageSize, pageToken, query)
	if err != nil {
		return nil, "", err
	}
	q := store.IncidentQuery{
		Services: page.services, State: f.State, OpenedFrom: page.from, OpenedTo: page.to,
		Production: s.production, Limit: page.size + 1,
	}
	if page.after != "" {
		parts := strings.SplitN(page.after, ":", 3)
		var at int64
		if len(parts) == 3 {
			at, err = strconv.ParseInt(parts[0], 10, 64)
		}
		if len(parts) != 3 || err != nil {
			return nil, "", invalidToken(pagetoken.ErrInvalid)
		}
		q.AfterOpened, q.AfterService, q.AfterID = time.UnixMicro(at).UTC(), parts[1], parts[2]
	}
	incidents, err := s.store.ListIncidents(ctx, q)
	if err != nil {
		return nil, "", err
	}
	incidents, next := pagetoken.Page(incidents, page.size, query, func(i store.ChargedIncident) string {
		return page.rangePrefix + fmt.Sprintf("%d:%s:%s", i.OpenedAt.UnixMicro(), i.Service, i.ID)
	})
	return incidents, next, nil
}

// drillDownPage is what a page of a drill-down list reads: the services,
// the range, the size, and where it starts.
type drillDownPage struct {
	services []string
	from, to time.Time
	size     int
	// after is the sort key of the last item of the previous page; "" on
	// the first page.
	after string
	// rangePrefix starts every token of the list: its resolved range, so
	// that a range that defaults to now stays the first page's.
	rangePrefix string
}

// page reads a drill-down page's token and range (of field, `finished` or
// `opened`) and the services of parent.
func (s *Service) page(ctx context.Context, parent, field string, r TimeRange, pageSize int32, pageToken, query string) (drillDownPage, error) {
	p := drillDownPage{size: min(pagetoken.Size(pageSize), maxDrillDownPage)}
	if pageToken != "" {
		after, err := pagetoken.Decode(pageToken, query)
		if err != nil {
			return drillDownPage{}, invalidToken(err)
		}
		from, rest, ok1 := strings.Cut(after, ":")
		to, rest, ok2 := strings.Cut(rest, ":")
		fromMicros, err1 := strconv.ParseInt(from, 10, 64)
		toMicros, err2 := strconv.ParseInt(to, 10, 64)
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			return drillDownPage{}, invalidToken(pagetoken.ErrInvalid)
		}
		p.from, p.to, p.after = time.UnixMicro(fromMicros).UTC(), time.UnixMicro(toMicros).UTC(), rest
	} else {
		var err error
		if p.from, p.to, err = s.resolveRange(field, r); err != nil {
			return drillDownPage{}, err
		}
	}
	p.rangePrefix = fmt.Sprintf("%d:%d:", p.from.UnixMicro(), p.to.UnixMicro())
	services, err := s.parentServices(ctx, parent)
	if err != nil {
		return drillDownPage{}, err
	}
	p.services = services
	return p, nil
}

// resolveRange gives r's unset ends their defaults and checks it.
func (s *Service) resolveRange(field string, r TimeRange) (from, to time.Time, err error) {
	to = r.To
	if to.IsZero() {
		to = s.now().UTC().Truncate(time.Microsecond)
	}
	from = r.From
	if from.IsZero() {
		from = to.Add(-defaultRange)
	}
	switch {
	case !to.After(from):
		return time.Time{}, time.Time{}, apierr.Invalid(apierr.FieldViolation{
			Field: field + "_before", Description: "must be after " + field + "_after",
		})
	case to.Sub(from) > maxDrillDownRange:
		return time.Time{}, time.Time{}, apierr.Invalid(apierr.FieldViolation{
			Field: field + "_after", Description: "must be at most " + formatDays(maxDrillDownRange) + " before " + field + "_before",
		})
	}
	return from.UTC(), to.UTC(), nil
}

// rangeKey describes a range as asked, for a page token's digest.
func rangeKey(r TimeRange) string {
	key := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return strconv.FormatInt(t.UnixMicro(), 10)
	}
	return key(r.From) + ".." + key(r.To)
}

// parentServices are the services of `services/{service}` (NOT_FOUND when
// the catalog lacks it) or of `teams/{team}` (NOT_FOUND when it owns none).
func (s *Service) parentServices(ctx context.Context, parent string) ([]string, error) {
	if name, ok := strings.CutPrefix(parent, servicePrefix); ok {
		// A service not in the catalog is NOT_FOUND (see apierr.Rewrite).
		if _, err := s.store.GetService(ctx, name); err != nil {
			return nil, err
		}
		return []string{name}, nil
	}
	team, ok := strings.CutPrefix(parent, teamPrefix)
	if !ok || team == "" {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "parent", Description: "must be services/{service} or teams/{team}"})
	}
	services, err := s.store.ServiceNames(ctx, team)
	if err != nil {
		return nil, err
	}
	if len(services) == 0 {
		return nil, apierr.NotFound("team", team)
	}
	return services, nil
}

func invalidToken(err error) error {
	return apierr.Invalid(apierr.FieldViolation{Field: "page_token", Description: err.Error()})
}

// LinkIncident charges the service's incident id, as a person corrects
// it, to the last-finished production deployment of revision, or to none
// when revision is "", and returns it. The caller must act for the
// service's team (refused before the incident is looked up); a revision
// never deployed to production is FAILED_PRECONDITION and changes nothing.
func (s *Service) LinkIncident(ctx context.Context, service, id, revision string) (store.ChargedIncident, error) {
	return s.linkIncident(ctx, service, id, revision, trusted)
}

func (s *Service) linkIncident(ctx context.Context, service, id, revision string, authorize authorizer) (store.ChargedIncident, error) {
	if _, err := s.incidentOf(ctx, service, id, authorize); err != nil {
		return store.ChargedIncident{}, err
	}
	charged, err := s.store.CorrectIncidentCharge(ctx, service, id, revision, s.production)
	if errors.Is(err, store.ErrNotFound) { // the incident was found above
		return store.ChargedIncident{}, &apierr.Error{
			Code:   codes.FailedPrecondition,
			Reason: "REVISION_NOT_IN_PRODUCTION",
			Message: fmt.Sprintf("%s has no deployment of revision %q to a production environment (%s) to charge the incident to",
				service, revision, strings.Join(s.production, ", ")),
			Metadata: map[string]string{"service": service, "revision": revision},
		}
	}
	return charged, err
}
