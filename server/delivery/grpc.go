package delivery

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/store"
)

// Resource name prefixes of the resources MetricsService addresses.
const (
	servicePrefix  = "services/"
	teamPrefix     = "teams/"
	incidentPrefix = "incidents/"
	// principalPrefix scopes the support tickets a principal records
	// without a team.
	principalPrefix = "principals/"
)

// Server serves MetricsService: delivery events and DORA metrics from m,
// platform metrics from a Platform. It converts between protobuf and the
// domain, and has the domain check that callers recording events act for
// the team concerned.
type Server struct {
	cairnv1.UnimplementedMetricsServiceServer
	metrics  *Service
	platform *Platform
}

// NewServer returns the MetricsService over m and platform.
func NewServer(m *Service, platform *Platform) *Server {
	return &Server{metrics: m, platform: platform}
}

// requireTeam refuses a caller who does not act for team.
func requireTeam(ctx context.Context, team string) error {
	return auth.RequireTeam(ctx, team, "record delivery events of")
}

// RecordDeployment implements MetricsService.
func (s *Server) RecordDeployment(ctx context.Context, req *cairnv1.RecordDeploymentRequest) (*cairnv1.RecordDeploymentResponse, error) {
	d := store.Deployment{
		Service:     req.GetService(),
		Environment: req.GetEnvironment(),
		Revision:    req.GetRevision(),
		Status:      req.GetStatus(),
		StartedAt:   timeOf(req.GetStartedAt()),
		FinishedAt:  timeOf(req.GetFinishedAt()),
	}
	for _, c := range req.GetCommits() {
		d.Commits = append(d.Commits, store.Commit{SHA: c.GetSha(), CommittedAt: timeOf(c.GetCommittedAt())})
	}
	created, err := s.metrics.recordDeployment(ctx, d, requireTeam)
	if err != nil {
		return nil, err
	}
	return &cairnv1.RecordDeploymentResponse{Created: created}, nil
}

// RecordIncident implements MetricsService.
func (s *Server) RecordIncident(ctx context.Context, req *cairnv1.RecordIncidentRequest) (*cairnv1.RecordIncidentResponse, error) {
	created, err := s.metrics.recordIncident(ctx, store.Incident{
		ID:            req.GetId(),
		Service:       req.GetService(),
		OpenedAt:      timeOf(req.GetOpenedAt()),
		ResolvedAt:    timeOf(req.GetResolvedAt()),
		CauseRevision: req.GetCauseRevision(),
	}, requireTeam)
	if err != nil {
		return nil, err
	}
	return &cairnv1.RecordIncidentResponse{Created: created, Name: IncidentName(req.GetService(), req.GetId())}, nil
}

// ResolveIncident implements MetricsService.
func (s *Server) ResolveIncident(ctx context.Context, req *cairnv1.ResolveIncidentRequest) (*cairnv1.ResolveIncidentResponse, error) {
	service, id, ok := parseIncidentName(req.GetName())
	if !ok {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "name",
			Description: "must be a resource name such as services/orders-service/incidents/INC-1234, or incidents/INC-1234"})
	}
	if _, err := s.metrics.resolveIncident(ctx, service, id, timeOf(req.GetResolvedAt()), requireTeam); err != nil {
		return nil, err
	}
	return &cairnv1.ResolveIncidentResponse{}, nil
}

// RecordSupportTicket implements MetricsService.
func (s *Server) RecordSupportTicket(ctx context.Context, req *cairnv1.RecordSupportTicketRequest) (*cairnv1.RecordSupportTicketResponse, error) {
	created, err := s.metrics.recordSupportTicket(ctx, store.SupportTicket{
		ID:       req.GetId(),
		Category: req.GetCategory(),
		Team:     req.GetTeam(),
		OpenedAt: timeOf(req.GetOpenedAt()),
	}, requireTeam)
	if err != nil {
		return nil, err
	}
	return &cairnv1.RecordSupportTicketResponse{Created: created}, nil
}

// GetServiceDora implements MetricsService.
func (s *Server) GetServiceDora(ctx context.Context, req *cairnv1.GetServiceDoraRequest) (*cairnv1.GetServiceDoraResponse, error) {
	dora, err := s.metrics.ServiceDora(ctx, strings.TrimPrefix(req.GetName(), servicePrefix), req.GetWindow())
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetServiceDoraResponse{Dora: doraToProto(dora)}, nil
}

// GetTeamDora implements MetricsService.
func (s *Server) GetTeamDora(ctx context.Context, req *cairnv1.GetTeamDoraRequest) (*cairnv1.GetTeamDoraResponse, error) {
	dora, err := s.metrics.TeamDora(ctx, strings.TrimPrefix(req.GetName(), teamPrefix), req.GetWindow())
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetTeamDoraResponse{Dora: doraToProto(dora)}, nil
}

// GetOrganizationDora implements MetricsService.
func (s *Server) GetOrganizationDora(ctx context.Context, req *cairnv1.GetOrganizationDoraRequest) (*cairnv1.GetOrganizationDoraResponse, error) {
	dora, err := s.metrics.OrganizationDora(ctx, req.GetWindow())
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetOrganizationDoraResponse{Dora: doraToProto(dora)}, nil
}

// parseIncidentName splits `services/{service}/incidents/{id}`, or the
// short `incidents/{id}` (service ""), into its parts.
func parseIncidentName(name string) (service, id string, ok bool) {
	if id, ok := strings.CutPrefix(name, incidentPrefix); ok {
		return "", id, true
	}
	rest, ok := strings.CutPrefix(name, servicePrefix)
	if !ok {
		return "", "", false
	}
	service, id, ok = strings.Cut(rest, "/"+incidentPrefix)
	return service, id, ok && service != "" && !strings.Contains(service, "/")
}

// timeOf is a request's timestamp; the zero time when it is missing, which
// the domain reports as required.
func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func doraToProto(d Dora) *cairnv1.DoraMetrics {
	return &cairnv1.DoraMetrics{
		Window:              d.Window.String(),
		WindowStart:         timestamppb.New(d.Window.Start),
		WindowEnd:           timestamppb.New(d.Window.End),
		DeploymentFrequency: metricToProto(d.DeploymentFrequency),
		LeadTimeForChanges:  metricToProto(d.LeadTimeForChanges),
		ChangeFailureRate:   metricToProto(d.ChangeFailureRate),
		TimeToRestore:       metricToProto(d.TimeToRestore),
		CostRegressionRate:  costRateToProto(d.CostRegressionRate),
	}
}

func costRateToProto(r CostRegressionRate) *cairnv1.CostRegressionRate {
	value, reason := r.Value()
	return &cairnv1.CostRegressionRate{
		Value: value, ChangeCount: r.Changes, JudgedCount: r.Judged, RegressionCount: r.Regressions,
		UnavailableReason: reason,
	}
}

func metricToProto(m Metric) *cairnv1.DoraMetric {
	return &cairnv1.DoraMetric{
		Value:          m.Value,
		Unit:           m.Unit,
		Band:           m.Band,
		PreviousValue:  m.Previous,
		FrequencyClass: m.FrequencyClass,
		SampleCount:    m.Samples,
	}
}
