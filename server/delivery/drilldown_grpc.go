package delivery

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/store"
)

// ListDeployments implements MetricsService.
func (s *Server) ListDeployments(ctx context.Context, req *cairnv1.ListDeploymentsRequest) (*cairnv1.ListDeploymentsResponse, error) {
	deployments, next, err := s.metrics.ListDeployments(ctx, req.GetParent(), DeploymentFilter{
		Environment: req.GetEnvironment(), Status: req.GetStatus(),
		Finished: TimeRange{From: timeOf(req.GetFinishedAfter()), To: timeOf(req.GetFinishedBefore())},
	}, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &cairnv1.ListDeploymentsResponse{Deployments: []*cairnv1.DeploymentRecord{}, NextPageToken: next}
	for _, d := range deployments {
		out := &cairnv1.DeploymentRecord{
			Name: DeploymentName(d.Service, d.ID), Service: d.Service, Environment: d.Environment, Revision: d.Revision,
			Status: d.Status, StartedAt: timestamppb.New(d.StartedAt), FinishedAt: timestamppb.New(d.FinishedAt),
			Production: s.metrics.Production(d.Environment),
			Commits:    []*cairnv1.DeployedCommit{}, Incidents: []*cairnv1.IncidentRecord{},
		}
		for _, c := range d.Commits {
			out.Commits = append(out.Commits, &cairnv1.DeployedCommit{
				Sha: c.SHA, CommittedAt: timestamppb.New(c.CommittedAt), LeadTime: durationpb.New(d.FinishedAt.Sub(c.CommittedAt)),
			})
		}
		for _, i := range d.Incidents {
			out.Incidents = append(out.Incidents, incidentToProto(i))
		}
		resp.Deployments = append(resp.Deployments, out)
	}
	return resp, nil
}

// ListIncidents implements MetricsService.
func (s *Server) ListIncidents(ctx context.Context, req *cairnv1.ListIncidentsRequest) (*cairnv1.ListIncidentsResponse, error) {
	incidents, next, err := s.metrics.ListIncidents(ctx, req.GetParent(), IncidentFilter{
		State:  req.GetState(),
		Opened: TimeRange{From: timeOf(req.GetOpenedAfter()), To: timeOf(req.GetOpenedBefore())},
	}, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &cairnv1.ListIncidentsResponse{Incidents: []*cairnv1.IncidentRecord{}, NextPageToken: next}
	for _, i := range incidents {
		resp.Incidents = append(resp.Incidents, incidentToProto(i))
	}
	return resp, nil
}

// LinkIncident implements MetricsService.
func (s *Server) LinkIncident(ctx context.Context, req *cairnv1.LinkIncidentRequest) (*cairnv1.LinkIncidentResponse, error) {
	service, id, ok := parseIncidentName(req.GetName())
	if !ok || service == "" {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "name",
			Description: "must be a resource name such as services/orders-service/incidents/INC-1234"})
	}
	charged, err := s.metrics.linkIncident(ctx, service, id, req.GetRevision(), requireTeam)
	if err != nil {
		return nil, err
	}
	return &cairnv1.LinkIncidentResponse{Incident: incidentToProto(charged)}, nil
}

// DeploymentName is the resource name of a stored deployment.
func DeploymentName(service string, id int64) string {
	return fmt.Sprintf("%s%s/deployments/%d", servicePrefix, service, id)
}

func incidentToProto(i store.ChargedIncident) *cairnv1.IncidentRecord {
	out := &cairnv1.IncidentRecord{
		Name: IncidentName(i.Service, i.ID), Service: i.Service, Id: i.ID,
		OpenedAt: timestamppb.New(i.OpenedAt), CauseRevision: i.CauseRevision, Link: i.Link,
	}
	if !i.ResolvedAt.IsZero() {
		out.ResolvedAt = timestamppb.New(i.ResolvedAt)
	}
	if i.Deployment.ID != 0 {
		out.Deployment = &cairnv1.ChargedDeployment{
			Name: DeploymentName(i.Service, i.Deployment.ID), Revision: i.Deployment.Revision,
			Environment: i.Deployment.Environment, FinishedAt: timestamppb.New(i.Deployment.FinishedAt),
		}
	}
	return out
}
