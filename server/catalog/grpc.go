package catalog

import (
	"context"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/store"
)

// Resource name prefixes of the catalog's resources.
const (
	servicePrefix = "services/"
	teamPrefix    = "teams/"
)

// Server serves CatalogService: it converts between protobuf and the
// catalog's domain, nothing more.
type Server struct {
	cairnv1.UnimplementedCatalogServiceServer
	catalog *Catalog
}

// NewServer returns the CatalogService over c.
func NewServer(c *Catalog) *Server {
	return &Server{catalog: c}
}

// RegisterService implements CatalogService.
func (s *Server) RegisterService(ctx context.Context, req *cairnv1.RegisterServiceRequest) (*cairnv1.RegisterServiceResponse, error) {
	var (
		svc     *store.Service
		created bool
		err     error
	)
	switch src := req.GetSource().(type) {
	case *cairnv1.RegisterServiceRequest_CatalogInfoYaml:
		svc, created, err = s.catalog.RegisterCatalogInfo(ctx, src.CatalogInfoYaml)
	case *cairnv1.RegisterServiceRequest_Service:
		in, ok := strings.CutPrefix(src.Service.GetName(), servicePrefix)
		if !ok {
			return nil, apierr.Invalid(apierr.FieldViolation{
				Field: "service.name", Description: "must be a resource name such as services/orders-service",
			})
		}
		svc, created, err = s.catalog.Register(ctx, fromProto(in, src.Service), src.Service.GetEtag())
	}
	if err != nil {
		return nil, err
	}
	return &cairnv1.RegisterServiceResponse{Service: toProto(svc), Created: created}, nil
}

// GetService implements CatalogService.
func (s *Server) GetService(ctx context.Context, req *cairnv1.GetServiceRequest) (*cairnv1.GetServiceResponse, error) {
	svc, err := s.catalog.Get(ctx, strings.TrimPrefix(req.GetName(), servicePrefix))
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetServiceResponse{Service: toProto(svc)}, nil
}

// ListServices implements CatalogService.
func (s *Server) ListServices(ctx context.Context, req *cairnv1.ListServicesRequest) (*cairnv1.ListServicesResponse, error) {
	services, next, err := s.catalog.List(ctx, ListQuery{
		Owner:      req.GetOwner(),
		System:     req.GetSystem(),
		Lifecycle:  req.GetLifecycle(),
		Tag:        req.GetTag(),
		GoldenPath: req.GoldenPath,
		PageSize:   req.GetPageSize(),
		PageToken:  req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	resp := &cairnv1.ListServicesResponse{NextPageToken: next, Services: make([]*cairnv1.Service, 0, len(services))}
	for _, svc := range services {
		resp.Services = append(resp.Services, toProto(svc))
	}
	return resp, nil
}

// DeleteService implements CatalogService.
func (s *Server) DeleteService(ctx context.Context, req *cairnv1.DeleteServiceRequest) (*cairnv1.DeleteServiceResponse, error) {
	if err := s.catalog.Delete(ctx, strings.TrimPrefix(req.GetName(), servicePrefix), req.GetEtag()); err != nil {
		return nil, err
	}
	return &cairnv1.DeleteServiceResponse{}, nil
}

// ListTeams implements CatalogService.
func (s *Server) ListTeams(ctx context.Context, req *cairnv1.ListTeamsRequest) (*cairnv1.ListTeamsResponse, error) {
	teams, next, err := s.catalog.ListTeams(ctx, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &cairnv1.ListTeamsResponse{NextPageToken: next, Teams: make([]*cairnv1.Team, 0, len(teams))}
	for _, t := range teams {
		resp.Teams = append(resp.Teams, &cairnv1.Team{
			Name:                   teamPrefix + t.Name,
			ServiceCount:           int32(t.ServiceCount),
			GoldenPathServiceCount: int32(t.GoldenPathServiceCount),
		})
	}
	return resp, nil
}

// fromProto takes the fields a client may set; output-only fields are
// ignored, as the API says.
func fromProto(name string, p *cairnv1.Service) *store.Service {
	svc := &store.Service{
		Name:         name,
		Title:        p.GetTitle(),
		Description:  p.GetDescription(),
		Labels:       p.GetLabels(),
		Annotations:  p.GetAnnotations(),
		Tags:         p.GetTags(),
		Type:         p.GetType(),
		Lifecycle:    p.GetLifecycle(),
		Owner:        p.GetOwner(),
		System:       p.GetSystem(),
		ProvidesAPIs: p.GetProvidesApis(),
		ConsumesAPIs: p.GetConsumesApis(),
		DependsOn:    p.GetDependsOn(),
	}
	for _, l := range p.GetLinks() {
		svc.Links = append(svc.Links, store.Link{URL: l.GetUrl(), Title: l.GetTitle(), Icon: l.GetIcon(), Type: l.GetType()})
	}
	return svc
}

func toProto(svc *store.Service) *cairnv1.Service {
	p := &cairnv1.Service{
		Name:           servicePrefix + svc.Name,
		Title:          svc.Title,
		Description:    svc.Description,
		Labels:         svc.Labels,
		Annotations:    svc.Annotations,
		Tags:           svc.Tags,
		Type:           svc.Type,
		Lifecycle:      svc.Lifecycle,
		Owner:          svc.Owner,
		Team:           svc.Team,
		System:         svc.System,
		ProvidesApis:   svc.ProvidesAPIs,
		ConsumesApis:   svc.ConsumesAPIs,
		DependsOn:      svc.DependsOn,
		GoldenPath:     svc.GoldenPath,
		SourceTemplate: svc.SourceTemplate,
		CreateTime:     timestamppb.New(svc.CreateTime),
		UpdateTime:     timestamppb.New(svc.UpdateTime),
		Etag:           svc.Etag,
	}
	for _, l := range svc.Links {
		p.Links = append(p.Links, &cairnv1.Link{Url: l.URL, Title: l.Title, Icon: l.Icon, Type: l.Type})
	}
	return p
}
