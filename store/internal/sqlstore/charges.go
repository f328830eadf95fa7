package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/delivery"
)

// RecordedLink is the link an incident is recorded with: named when it
// names a revision; charged to nothing until ChargeIncidents infers one.
func RecordedLink(causeRevision string) string {
	if causeRevision != "" {
		return store.ChargeNamed
	}
	return store.ChargeNone
}

// ChargeIncidents implements store.MetricsStore. It takes the service's
// events lock, as recording does, so that the deployments it looks at are
// all there.
func (s *Store) ChargeIncidents(ctx context.Context, c store.IncidentCharging) error {
	if len(c.Environments) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(x Executor) error {
		if err := x.LockServiceEvents(ctx, c.Service); err != nil {
			return err
		}
		incidents, err := x.IncidentsToInfer(ctx, c.Service, c.OpenedFrom, c.OpenedTo)
		if err != nil {
			return err
		}
		for _, i := range incidents {
			charged, err := x.InferredChargeDeployment(ctx, c.Service, c.Environments, i.OpenedAt.Add(-c.Window), i.OpenedAt)
			switch {
			case s.d.IsNoRows(err):
				charged = 0
			case err != nil:
				return err
			}
			if charged == i.DeploymentID {
				continue
			}
			link := store.ChargeInferred
			if charged == 0 {
				link = store.ChargeNone
			}
			if err := x.ChargeIncident(ctx, c.Service, i.ID, charged, link); err != nil {
				return err
			}
			if err := recount(ctx, x, c.Service, i.DeploymentID, charged); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.failed(fmt.Sprintf("charge incidents of %q", c.Service), err)
	}
	return nil
}

// CorrectIncidentCharge implements store.MetricsStore.
func (s *Store) CorrectIncidentCharge(ctx context.Context, service, id, revision string, environments []string) (store.ChargedIncident, error) {
	var corrected store.ChargedIncident
	err := s.inTx(ctx, func(x Executor) error {
		if err := x.LockServiceEvents(ctx, service); err != nil {
			return err
		}
		link, old, causeRevision, err := x.IncidentCharge(ctx, service, id)
		if err = s.notFound(err); err != nil {
			return err
		}
		var target store.DeploymentRef
		if revision != "" {
			deployments, err := revisionDeployments(ctx, x, service, revision)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(deployments, func(d store.DeploymentRef) bool { return slices.Contains(environments, d.Environment) })
			if i < 0 {
				return fmt.Errorf("%w: no deployment of %s to %v", store.ErrNotFound, revision, environments)
			}
			target = deployments[i]
		}
		if err := x.ChargeIncident(ctx, service, id, target.ID, store.ChargeCorrected); err != nil {
			return err
		}
		// The deployments the old charge covered: a named one covers every
		// deployment of the revision.
		touched := []int64{old, target.ID}
		if link == store.ChargeNamed {
			named, err := x.RevisionDeployments(ctx, service, causeRevision)
			if err != nil {
				return err
			}
			for _, d := range named {
				touched = append(touched, d.ID)
			}
		}
		if err := recount(ctx, x, service, touched...); err != nil {
			return err
		}
		incident, err := x.GetIncident(ctx, service, id)
		if err != nil {
			return err
		}
		corrected = store.ChargedIncident{Incident: incident, Link: store.ChargeCorrected, Deployment: target}
		return nil
	})
	if err != nil {
		return store.ChargedIncident{}, s.failed(fmt.Sprintf("correct the charge of incident %q of %q", id, service), err)
	}
	return corrected, nil
}

// recount brings the caused_incident of each of service's deployment ids (0 for none,
// repeats once) to whether an incident is charged to it now, and its
// day's count of incident-causing deployments with it: only successful
// deployments count there, failed ones count as failed already.
func recount(ctx context.Context, x Executor, service string, ids ...int64) error {
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if id == 0 || seen[id] {
			continue
		}
		seen[id] = true
		d, err := x.DeploymentCharge(ctx, id)
		if err != nil {
			return err
		}
		if d.Caused == d.Charged {
			continue
		}
		if err := x.SetCausedIncident(ctx, id, d.Charged); err != nil {
			return err
		}
		if d.Status != store.DeploymentSucceeded {
			continue
		}
		change := int64(1)
		if !d.Charged {
			change = -1
		}
		if err := x.CountDeployments(ctx, DeploymentCount{
			Service: service, Environment: d.Environment, Day: delivery.Day(d.FinishedAt),
			IncidentCausing: change, LeadTimes: []byte{},
		}); err != nil {
			return err
		}
	}
	return nil
}

// ListDeployments implements store.MetricsStore.
func (s *Store) ListDeployments(ctx context.Context, q store.DeploymentQuery) ([]store.ListedDeployment, error) {
	if len(q.Services) == 0 {
		return nil, nil
	}
	if q.AfterFinished.IsZero() {
		q.AfterFinished = q.FinishedTo
	}
	deployments, err := s.d.ListDeployments(ctx, q)
	if err != nil || len(deployments) == 0 {
		return nil, s.failedList("deployments", err)
	}
	ids := make([]int64, len(deployments))
	byID := make(map[int64]*store.ListedDeployment, len(deployments))
	for i := range deployments {
		ids[i] = deployments[i].ID
		byID[ids[i]] = &deployments[i]
	}
	commits, err := s.d.DeploymentCommits(ctx, ids)
	if err != nil {
		return nil, s.failedList("deployment commits", err)
	}
	for id, c := range commits {
		byID[id].Commits = c
	}
	charged, err := s.d.IncidentsChargedTo(ctx, ids)
	if err != nil {
		return nil, s.failedList("charged incidents", err)
	}
	for _, i := range charged {
		d := byID[i.Deployment.ID]
		i.Deployment = ref(d)
		d.Incidents = append(d.Incidents, i)
	}
	type revision struct{ service, revision string }
	named := make(map[revision][]store.ChargedIncident)
	for i := range deployments {
		d := &deployments[i]
		key := revision{d.Service, d.Revision}
		incidents, ok := named[key]
		if !ok {
			if incidents, err = s.d.IncidentsNaming(ctx, d.Service, d.Revision); err != nil {
				return nil, s.failedList("named incidents", err)
			}
			named[key] = incidents
		}
		for _, incident := range incidents {
			incident.Deployment = ref(d)
			d.Incidents = append(d.Incidents, incident)
		}
		slices.SortFunc(d.Incidents, func(a, b store.ChargedIncident) int {
			if c := b.OpenedAt.Compare(a.OpenedAt); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
	}
	return deployments, nil
}

// revisionDeployments are the service's deployments of revision, newest
// finish first (the last recorded first among equals).
func revisionDeployments(ctx context.Context, x Executor, service, revision string) ([]store.DeploymentRef, error) {
	deployments, err := x.RevisionDeployments(ctx, service, revision)
	slices.SortFunc(deployments, func(a, b store.DeploymentRef) int {
		if c := b.FinishedAt.Compare(a.FinishedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return deployments, err
}

func ref(d *store.ListedDeployment) store.DeploymentRef {
	return store.DeploymentRef{ID: d.ID, Environment: d.Environment, Revision: d.Revision, Status: d.Status, FinishedAt: d.FinishedAt}
}

// ListIncidents implements store.MetricsStore.
func (s *Store) ListIncidents(ctx context.Context, q store.IncidentQuery) ([]store.ChargedIncident, error) {
	if len(q.Services) == 0 {
		return nil, nil
	}
	if q.AfterOpened.IsZero() {
		q.AfterOpened = q.OpenedTo
	}
	incidents, err := s.d.ListIncidents(ctx, q)
	if err != nil {
		return nil, s.failedList("incidents", err)
	}
	deployments := make(map[int64]store.DeploymentRef)
	for i := range incidents {
		incident := &incidents[i]
		switch {
		case incident.Link == store.ChargeNamed:
			named, err := revisionDeployments(ctx, s.d, incident.Service, incident.CauseRevision)
			if err != nil {
				return nil, s.failedList("incident deployments", err)
			}
			incident.Deployment = store.DeploymentRef{}
			if p := slices.IndexFunc(named, func(d store.DeploymentRef) bool { return slices.Contains(q.Production, d.Environment) }); p >= 0 {
				incident.Deployment = named[p]
			} else if len(named) > 0 {
				incident.Deployment = named[0]
			}
		case incident.Deployment.ID != 0:
			d, ok := deployments[incident.Deployment.ID]
			if !ok {
				if d, err = s.d.GetDeploymentRef(ctx, incident.Deployment.ID); err != nil {
					return nil, s.failedList("incident deployments", err)
				}
				deployments[d.ID] = d
			}
			incident.Deployment = d
		}
	}
	return incidents, nil
}

// OpenIncidentsOfRevision implements store.MetricsStore.
func (s *Store) OpenIncidentsOfRevision(ctx context.Context, service, revision string) ([]store.Incident, error) {
	incidents, err := s.d.OpenIncidentsOfRevision(ctx, service, revision)
	if err != nil {
		return nil, s.failed(fmt.Sprintf("open incidents of %q at %s", service, revision), err)
	}
	slices.SortFunc(incidents, func(a, b store.Incident) int {
		if c := a.OpenedAt.Compare(b.OpenedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return incidents, nil
}

func (s *Store) failedList(what string, err error) error {
	if err == nil {
		return nil
	}
	return s.failed("list "+what, err)
}
