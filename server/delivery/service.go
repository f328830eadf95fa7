package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
)

// Store is what the metrics service uses: the catalog, for services and
// their teams, and the delivery events.
type Store interface {
	GetService(ctx context.Context, name string) (*store.Service, error)
	store.MetricsStore
}

// Service records delivery events and computes DORA metrics from them. Its
// exported methods are for callers inside Cairn, which it trusts, such as
// the Argo CD informer; MetricsService's handlers also check that the
// caller acts for the team concerned.
type Service struct {
	store      Store
	prometheus *Prometheus
	window     EventWindow
	teams      entityref.Teams
	// production are the environments DORA metrics count: the promotion
	// path's production-like ones.
	production []string
	// linkWindow is how long before an incident that names no revision
	// opened a production deployment may have finished to be charged
	// with it.
	linkWindow time.Duration
	now        func() time.Time
	// costRegressions computes the cost regression rate; nil leaves it out.
	costRegressions CostRegressionRater
}

// DefaultIncidentLinkWindow charges an incident naming no revision to a
// production deployment of the day before it opened: long enough for a
// fault that shows the next morning, short enough that a quiet week's
// one deployment is not blamed for everything after it.
const DefaultIncidentLinkWindow = 24 * time.Hour

// maxIncidentLinkWindow bounds the setting: beyond a month, the last
// deployment is a guess, not a link.
const maxIncidentLinkWindow = 31 * 24 * time.Hour

// ValidateIncidentLinkWindow refuses a link window that would link nothing
// or guess.
func ValidateIncidentLinkWindow(d time.Duration) error {
	if d <= 0 || d > maxIncidentLinkWindow {
		return fmt.Errorf("metrics: incident link window %s must be positive and at most %s", d, formatDays(maxIncidentLinkWindow))
	}
	return nil
}

// Option changes a setting of a Service from its default.
type Option func(*Service)

// WithIncidentLinkWindow charges an incident that names no revision to the
// last successful production deployment that finished within d before it
// opened (DefaultIncidentLinkWindow otherwise).
func WithIncidentLinkWindow(d time.Duration) Option {
	return func(s *Service) { s.linkWindow = d }
}

// New returns the metrics service over st, observing into prom, that
// records events dated within window, takes a ticket's team as teams make
// them from owners, and counts in DORA metrics the deployments to the
// production environments (the path's production-like ones; none leaves
// DORA nothing to measure).
func New(st Store, prom *Prometheus, window EventWindow, teams entityref.Teams, production []string, opts ...Option) *Service {
	s := &Service{
		store: st, prometheus: prom, window: window, teams: teams,
		production: slices.Clone(production), linkWindow: DefaultIncidentLinkWindow, now: time.Now,
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// eventTimes checks event times against the window at this moment.
func (s *Service) eventTimes() eventTimes {
	return eventTimes{now: s.now(), window: s.window}
}

// authorizer refuses a caller that may not record events of team.
type authorizer func(ctx context.Context, team string) error

// trusted lets every in-process caller record events.
func trusted(context.Context, string) error { return nil }

// RecordDeployment records d, a deployment of a service in the catalog,
// unless a deployment with its key (service, environment, revision and
// start time, to the microsecond) is recorded already: then it returns
// created false, and changes nothing of the recorded deployment but adds
// those of d's commits (by SHA) it does not list yet, as if the first
// report had carried them. A commit made after the recorded deployment
// finished is refused then, as one made after d's own finish always is.
// The lead times of the commits it adds to a successful production
// deployment are observed in platform_lead_time_seconds. Bad input is an
// apierr INVALID_ARGUMENT, an unknown service NOT_FOUND.
func (s *Service) RecordDeployment(ctx context.Context, d store.Deployment) (created bool, err error) {
	return s.recordDeployment(ctx, d, trusted)
}

func (s *Service) recordDeployment(ctx context.Context, d store.Deployment, authorize authorizer) (bool, error) {
	if err := checkDeployment(d, s.eventTimes()); err != nil {
		return false, err
	}
	team, err := s.teamOf(ctx, d.Service, authorize)
	if err != nil {
		return false, err
	}
	recorded, err := s.store.RecordDeployment(ctx, d)
	var late *store.CommitsAfterFinishError
	if errors.As(err, &late) {
		return false, committedAfterRecordedFinish(late)
	}
	if err != nil {
		return false, err
	}
	production := slices.Contains(s.production, d.Environment)
	if production && recorded.Status == store.DeploymentSucceeded {
		// The incidents it may be the last deployment before, whether they
		// were recorded before it or not. A repeat charges again, which
		// changes nothing unless a failure cut the first call short.
		err := s.store.ChargeIncidents(ctx, s.charging(d.Service, recorded.FinishedAt, recorded.FinishedAt.Add(s.linkWindow)))
		if err != nil {
			return false, err
		}
	}
	s.prometheus.deployed(team, d, recorded, production)
	return recorded.Created, nil
}

// committedAfterRecordedFinish is the error for a repeated deployment that
// lists commits made after the deployment recorded first finished: a field
// violation for each, as for commits made after the request's own finish.
func committedAfterRecordedFinish(late *store.CommitsAfterFinishError) error {
	var v violations
	for _, i := range late.Commits {
		v.add(fmt.Sprintf("commits[%d].committed_at", i),
			"must not be after the finished_at of this deployment as first recorded, %s: a deployment ships commits made before it",
			late.FinishedAt.Format(time.RFC3339Nano))
	}
	return apierr.Invalid(v...)
}

// RecordIncident records i, an incident of a service in the catalog,
// unless the service has an incident with its id already: then it changes
// nothing and returns created false. Ids are the service's own: another
// service's incident of the same id is another incident.
func (s *Service) RecordIncident(ctx context.Context, i store.Incident) (created bool, err error) {
	return s.recordIncident(ctx, i, trusted)
}

func (s *Service) recordIncident(ctx context.Context, i store.Incident, authorize authorizer) (bool, error) {
	if err := checkIncident(i, s.eventTimes()); err != nil {
		return false, err
	}
	if _, err := s.teamOf(ctx, i.Service, authorize); err != nil {
		return false, err
	}
	created, err := s.store.RecordIncident(ctx, i)
	if err != nil || i.CauseRevision != "" {
		return created, err
	}
	// A repeat charges again, as a repeated deployment does; a repeat's
	// opening time may differ from the first report's, so the stored one
	// counts.
	stored, err := s.store.GetIncident(ctx, i.Service, i.ID)
	if err != nil {
		return false, err
	}
	return created, s.store.ChargeIncidents(ctx, s.charging(i.Service, stored.OpenedAt, stored.OpenedAt))
}

// charging charges by time the service's incidents opened in [from, to],
// both included, to its production deployments.
func (s *Service) charging(service string, from, to time.Time) store.IncidentCharging {
	return store.IncidentCharging{Service: service, Environments: s.production, Window: s.linkWindow, OpenedFrom: from, OpenedTo: to}
}

// ResolveIncident records that the service's open incident id was
// resolved at `at` and returns it. Resolving it again at the same time
// changes nothing; at another time it is FAILED_PRECONDITION, and an
// unknown incident NOT_FOUND. With service empty, id names the one
// incident of that id (see resolveIncident).
func (s *Service) ResolveIncident(ctx context.Context, service, id string, at time.Time) (store.Incident, error) {
	return s.resolveIncident(ctx, service, id, at, trusted)
}

// resolveIncident resolves the service's incident id. With service empty,
// it resolves the one incident of that id among the services the caller
// may change: NOT_FOUND when there is none (another team's incidents are
// never revealed), FAILED_PRECONDITION when several services have one.
func (s *Service) resolveIncident(ctx context.Context, service, id string, at time.Time, authorize authorizer) (store.Incident, error) {
	var v violations
	checkEventID(&v, "id", id)
	s.eventTimes().check(&v, "resolved_at", at, true)
	if err := apierr.Invalid(v...); err != nil {
		return store.Incident{}, err
	}
	var (
		incident store.Incident
		err      error
	)
	if service == "" {
		incident, err = s.findIncident(ctx, id, authorize)
	} else {
		incident, err = s.incidentOf(ctx, service, id, authorize)
	}
	if err != nil {
		return store.Incident{}, err
	}
	if at.Before(incident.OpenedAt) {
		return store.Incident{}, apierr.Invalid(apierr.FieldViolation{
			Field: "resolved_at", Description: "must not be before the incident opened, at " + incident.OpenedAt.Format(time.RFC3339Nano),
		})
	}
	resolved, err := s.store.ResolveIncident(ctx, incident.Service, incident.ID, at)
	if errors.Is(err, store.ErrConflict) {
		return store.Incident{}, alreadyResolved(ctx, s.store, incident.Service, incident.ID)
	}
	return resolved, err
}

// IncidentName is the resource name of a service's incident.
func IncidentName(service, id string) string {
	return servicePrefix + service + "/" + incidentPrefix + id
}

// incidentOf is the service's incident id, once the caller may change the
// service: the caller is refused before the incident is looked up, so that
// whether another team's service has an incident is never revealed.
func (s *Service) incidentOf(ctx context.Context, service, id string, authorize authorizer) (store.Incident, error) {
	if err := s.authorizeService(ctx, service, authorize); err != nil {
		return store.Incident{}, err
	}
	incident, err := s.store.GetIncident(ctx, service, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Incident{}, apierr.NotFound("incident", IncidentName(service, id))
	}
	return incident, err
}

// findIncident is the one incident of id among the services the caller may
// change.
func (s *Service) findIncident(ctx context.Context, id string, authorize authorizer) (store.Incident, error) {
	found, err := s.store.FindIncidents(ctx, id)
	if err != nil {
		return store.Incident{}, err
	}
	var mine []store.Incident
	for _, incident := range found {
		switch err := s.authorizeService(ctx, incident.Service, authorize); {
		case err == nil:
			mine = append(mine, incident)
		case !isPermissionDenied(err):
			return store.Incident{}, err
		}
	}
	switch len(mine) {
	case 0:
		return store.Incident{}, apierr.NotFound("incident", incidentPrefix+id)
	case 1:
		return mine[0], nil
	}
	names := make([]string, len(mine))
	for i, incident := range mine {
		names[i] = IncidentName(incident.Service, incident.ID)
	}
	return store.Incident{}, &apierr.Error{
		Code:   codes.FailedPrecondition,
		Reason: "INCIDENT_AMBIGUOUS",
		Message: fmt.Sprintf("%d services have an incident %s: name the one to resolve in full, one of %s",
			len(mine), id, strings.Join(names, ", ")),
		Metadata: map[string]string{"incident": incidentPrefix + id},
	}
}

// isPermissionDenied tells an authorizer's refusal from a store failure.
func isPermissionDenied(err error) bool {
	var refused *apierr.Error
	return errors.As(err, &refused) && refused.Code == codes.PermissionDenied
}

// alreadyResolved is the error for resolving an incident at another time
// than it was: the first resolution stands, as it may already be counted.
func alreadyResolved(ctx context.Context, st Store, service, id string) error {
	incident, err := st.GetIncident(ctx, service, id)
	if err != nil {
		return err
	}
	at := incident.ResolvedAt.Format(time.RFC3339Nano)
	name := IncidentName(service, id)
	return &apierr.Error{
		Code:     codes.FailedPrecondition,
		Reason:   "INCIDENT_ALREADY_RESOLVED",
		Message:  "incident " + name + " was resolved at " + at + " already; the first resolution stands",
		Metadata: map[string]string{"incident": name, "resolvedAt": at},
	}
}

// authorizeService checks the caller may record events of the team that
// owns the named service. A service no longer in the catalog has no team,
// which only an admin acts for.
func (s *Service) authorizeService(ctx context.Context, name string, authorize authorizer) error {
	svc, err := s.store.GetService(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return authorize(ctx, "")
	case err != nil:
		return err
	}
	return authorize(ctx, svc.Team)
}

// RecordSupportTicket records t unless a ticket with its id is recorded
// already in its scope: then it changes nothing and returns created false.
// A ticket of a team is scoped by the team, one that names no team by the
// principal recording it, so that no caller's id shadows another team's or
// caller's ticket. A team given as an entity reference
// (`group:default/team-orders`) is kept as the team's name.
func (s *Service) RecordSupportTicket(ctx context.Context, t store.SupportTicket) (created bool, err error) {
	return s.recordSupportTicket(ctx, t, trusted)
}

func (s *Service) recordSupportTicket(ctx context.Context, t store.SupportTicket, authorize authorizer) (bool, error) {
	if err := checkSupportTicket(t, s.eventTimes(), s.teams); err != nil {
		return false, err
	}
	if t.Team != "" {
		t.Team, _ = s.teams.Owner(t.Team) // checked above
		if err := authorize(ctx, t.Team); err != nil {
			return false, err
		}
		t.Scope = teamPrefix + t.Team
	} else {
		t.Scope = principalPrefix + auth.Name(ctx)
	}
	created, err := s.store.RecordSupportTicket(ctx, t)
	if created {
		s.prometheus.ticketRaised(t)
	}
	return created, err
}

// teamOf is the team of a service in the catalog, once authorize lets the
// caller record its events; NOT_FOUND for a service the catalog lacks.
func (s *Service) teamOf(ctx context.Context, name string, authorize authorizer) (string, error) {
	svc, err := s.store.GetService(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", apierr.NotFound("service", name)
	}
	if err != nil {
		return "", err
	}
	return svc.Team, authorize(ctx, svc.Team)
}

// ServiceDora is the DORA metrics of a service in the catalog over window
// (such as `30d`; "" for 30 days) ending now.
func (s *Service) ServiceDora(ctx context.Context, name, window string) (Dora, error) {
	w, err := parseWindow(window, s.now())
	if err != nil {
		return Dora{}, err
	}
	// A service not in the catalog is NOT_FOUND (see apierr.Rewrite).
	if _, err := s.store.GetService(ctx, name); err != nil {
		return Dora{}, err
	}
	return s.dora(ctx, []string{name}, w)
}

// TeamDora is the DORA metrics over the services the catalog gives team
// now; NOT_FOUND for a team that owns none.
func (s *Service) TeamDora(ctx context.Context, team, window string) (Dora, error) {
	if team == "" {
		return Dora{}, apierr.Invalid(apierr.FieldViolation{Field: "name", Description: "is required: the team, such as teams/team-orders"})
	}
	w, err := parseWindow(window, s.now())
	if err != nil {
		return Dora{}, err
	}
	services, err := s.store.ServiceNames(ctx, team)
	if err != nil {
		return Dora{}, err
	}
	if len(services) == 0 {
		return Dora{}, apierr.NotFound("team", team)
	}
	return s.dora(ctx, services, w)
}

// OrganizationDora is the DORA metrics over every service in the catalog.
func (s *Service) OrganizationDora(ctx context.Context, window string) (Dora, error) {
	w, err := parseWindow(window, s.now())
	if err != nil {
		return Dora{}, err
	}
	services, err := s.store.ServiceNames(ctx, "")
	if err != nil {
		return Dora{}, err
	}
	return s.dora(ctx, services, w)
}

// dora reads the facts of w and of the window before, for services'
// production deployments, and computes the metrics. The two windows are
// read at once: they are independent, and each is a few index reads.
func (s *Service) dora(ctx context.Context, services []string, w Window) (Dora, error) {
	var (
		previous    store.DeliveryFacts
		previousErr error
		wg          sync.WaitGroup
	)
	before := w.previous()
	wg.Go(func() {
		previous, previousErr = s.store.DeliveryFacts(ctx, services, s.production, before.Start, before.End)
	})
	var (
		costRate    CostRegressionRate
		costRateErr error
	)
	if s.costRegressions != nil {
		wg.Go(func() {
			costRate, costRateErr = s.costRegressions.Rate(ctx, services, w.Start, w.End)
		})
	}
	current, err := s.store.DeliveryFacts(ctx, services, s.production, w.Start, w.End)
	wg.Wait()
	if err = errors.Join(err, previousErr, costRateErr); err != nil {
		return Dora{}, err
	}
	dora := computeDora(w, current, previous)
	dora.CostRegressionRate = costRate
	return dora, nil
}
