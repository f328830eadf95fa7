package provisioning

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/store"
)

// Server serves ProvisioningService: it converts between protobuf and the
// provisioning domain.
type Server struct {
	cairnv1.UnimplementedProvisioningServiceServer
	provisioner *Provisioner
}

// NewServer returns the ProvisioningService over p.
func NewServer(p *Provisioner) *Server {
	return &Server{provisioner: p}
}

// CreateService implements ProvisioningService.
func (s *Server) CreateService(ctx context.Context, req *cairnv1.CreateServiceRequest) (*cairnv1.CreateServiceResponse, error) {
	created, err := s.provisioner.Create(ctx, Request{
		Name: req.GetName(), Description: req.GetDescription(), Owner: req.GetOwner(), Template: req.GetTemplate(),
		Database: req.GetDatabase(), DatabaseSize: req.GetDatabaseSize(), RepositoryURL: req.GetRepositoryUrl(),
		Bucket: req.GetBucket(), Environments: req.GetEnvironments(), ReplicaCount: req.GetReplicaCount(),
		RequestID: req.GetRequestId(), ValidateOnly: req.GetValidateOnly(),
	})
	if err != nil {
		return nil, err
	}
	spec := created.Provisioning.Spec
	resp := &cairnv1.CreateServiceResponse{
		Service:      created.Provisioning.Service,
		Repository:   spec.RepositoryURL,
		Environments: spec.Environments,
		Resources:    resourcesOf(spec),
		Status:       "provisioning",
	}
	if req.GetValidateOnly() {
		resp.Status = "validated"
	}
	for _, obj := range created.Objects {
		st, err := structpb.NewStruct(obj.Object)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", obj.GetName(), err)
		}
		resp.Objects = append(resp.Objects, st)
	}
	return resp, nil
}

// resourcesOf lists a spec's resources in the words of the seed's platform
// API: `database:postgresql`, `bucket`.
func resourcesOf(spec store.ProvisioningSpec) []string {
	resources := []string{}
	if spec.Database != "" {
		resources = append(resources, resourceDatabase+":"+spec.Database)
	}
	if spec.Bucket {
		resources = append(resources, resourceBucket)
	}
	return resources
}

// GetServiceStatus implements ProvisioningService.
func (s *Server) GetServiceStatus(ctx context.Context, req *cairnv1.GetServiceStatusRequest) (*cairnv1.GetServiceStatusResponse, error) {
	prov, snap, err := s.provisioner.Status(ctx, strings.TrimPrefix(req.GetName(), "services/"))
	if err != nil {
		return nil, err
	}
	return statusOf(prov, snap, s.provisioner.settings), nil
}

// WatchServiceStatus implements ProvisioningService.
func (s *Server) WatchServiceStatus(req *cairnv1.WatchServiceStatusRequest, stream cairnv1.ProvisioningService_WatchServiceStatusServer) error {
	return s.provisioner.Watch(stream.Context(), strings.TrimPrefix(req.GetName(), "services/"),
		func(prov store.Provisioning, snap Snapshot) error {
			return stream.Send(&cairnv1.WatchServiceStatusResponse{Status: statusOf(prov, snap, s.provisioner.settings)})
		})
}

// AddServiceResource implements ProvisioningService.
func (s *Server) AddServiceResource(ctx context.Context, req *cairnv1.AddServiceResourceRequest) (*cairnv1.AddServiceResourceResponse, error) {
	service := strings.TrimPrefix(req.GetParent(), "services/")
	r := req.GetResource()
	spec, err := s.provisioner.AddResource(ctx, service, r.GetKind(), r.GetEngine(), r.GetSize(), r.GetVersion())
	if err != nil {
		return nil, err
	}
	added := &cairnv1.ServiceResource{Name: req.GetParent() + "/resources/" + r.GetKind(), Kind: r.GetKind()}
	if r.GetKind() == resourceDatabase {
		added.Engine, added.Size, added.Version = spec.Database, spec.DatabaseSize, spec.DatabaseVersion
	}
	return &cairnv1.AddServiceResourceResponse{Resource: added}, nil
}

// RemoveServiceResource implements ProvisioningService.
func (s *Server) RemoveServiceResource(ctx context.Context, req *cairnv1.RemoveServiceResourceRequest) (*cairnv1.RemoveServiceResourceResponse, error) {
	service, kind, ok := parseChildName(req.GetName(), "resources")
	if !ok {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "name", Description: "must be services/{service}/resources/{database|bucket}"})
	}
	if err := s.provisioner.RemoveResource(ctx, service, kind, req.GetForce()); err != nil {
		return nil, err
	}
	return &cairnv1.RemoveServiceResourceResponse{}, nil
}

// CreatePromotion implements ProvisioningService.
func (s *Server) CreatePromotion(ctx context.Context, req *cairnv1.CreatePromotionRequest) (*cairnv1.CreatePromotionResponse, error) {
	promotion, err := s.provisioner.RequestPromotion(ctx, PromotionRequest{
		Service: strings.TrimPrefix(req.GetParent(), "services/"), Environment: req.GetPromotion().GetEnvironment(),
		Revision: req.GetPromotion().GetRevision(), RequestID: req.GetRequestId(), Force: req.GetForce(),
	})
	if err != nil {
		return nil, err
	}
	return &cairnv1.CreatePromotionResponse{Promotion: promotionToProto(promotion)}, nil
}

// ListPromotions implements ProvisioningService.
func (s *Server) ListPromotions(ctx context.Context, req *cairnv1.ListPromotionsRequest) (*cairnv1.ListPromotionsResponse, error) {
	service := strings.TrimPrefix(req.GetParent(), "services/")
	promotions, next, err := s.provisioner.ListPromotions(ctx, service, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	mayDecide := func(store.Promotion) bool { return false }
	if slices.ContainsFunc(promotions, func(p store.Promotion) bool { return p.State == StatePending }) {
		if mayDecide, err = s.provisioner.MayDecide(ctx, service); err != nil {
			return nil, err
		}
	}
	resp := &cairnv1.ListPromotionsResponse{NextPageToken: next, Promotions: []*cairnv1.Promotion{}}
	for _, p := range promotions {
		out := promotionToProto(p)
		out.CallerCanDecide = mayDecide(p)
		resp.Promotions = append(resp.Promotions, out)
	}
	return resp, nil
}

// ListEnvironments implements ProvisioningService: the promotion path of
// the settings, which needs no cluster.
func (s *Server) ListEnvironments(context.Context, *cairnv1.ListEnvironmentsRequest) (*cairnv1.ListEnvironmentsResponse, error) {
	settings := s.provisioner.settings
	resp := &cairnv1.ListEnvironmentsResponse{Environments: []*cairnv1.Environment{}}
	for _, name := range settings.EnvironmentNames() {
		env, _ := settings.Environment(name)
		e := &cairnv1.Environment{Name: env.Name, Sync: env.Sync, Revision: env.Revision, Production: env.Production}
		if env.Promotion != nil {
			e.Promotion = &cairnv1.EnvironmentPromotion{
				From: env.Promotion.From, Approval: env.Promotion.Approval, RequireRunning: env.Promotion.RequireRunning,
			}
		}
		resp.Environments = append(resp.Environments, e)
	}
	return resp, nil
}

// ApprovePromotion implements ProvisioningService.
func (s *Server) ApprovePromotion(ctx context.Context, req *cairnv1.ApprovePromotionRequest) (*cairnv1.ApprovePromotionResponse, error) {
	promotion, err := s.decide(ctx, req.GetName(), true, req.GetReason())
	if err != nil {
		return nil, err
	}
	return &cairnv1.ApprovePromotionResponse{Promotion: promotion}, nil
}

// DenyPromotion implements ProvisioningService.
func (s *Server) DenyPromotion(ctx context.Context, req *cairnv1.DenyPromotionRequest) (*cairnv1.DenyPromotionResponse, error) {
	promotion, err := s.decide(ctx, req.GetName(), false, req.GetReason())
	if err != nil {
		return nil, err
	}
	return &cairnv1.DenyPromotionResponse{Promotion: promotion}, nil
}

func (s *Server) decide(ctx context.Context, name string, approve bool, reason string) (*cairnv1.Promotion, error) {
	service, idText, ok := parseChildName(name, "promotions")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "name", Description: "must be services/{service}/promotions/{id}"})
	}
	promotion, err := s.provisioner.Decide(ctx, service, id, approve, reason)
	if err != nil {
		return nil, err
	}
	return promotionToProto(promotion), nil
}

// parseChildName splits services/{service}/{collection}/{id}.
func parseChildName(name, collection string) (service, id string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "services" || parts[2] != collection || parts[1] == "" || parts[3] == "" {
		return "", "", false
	}
	return parts[1], parts[3], true
}

func promotionToProto(p store.Promotion) *cairnv1.Promotion {
	out := &cairnv1.Promotion{
		Name:        promotionName(p.Service, p.ID),
		Revision:    p.Revision,
		State:       p.State,
		Requester:   p.Requester,
		Decider:     p.Decider,
		Reason:      p.Reason,
		CreateTime:  timestamppb.New(p.CreateTime),
		Environment: p.Environment,
		Rollback:    p.Rollback,
	}
	if !p.DecideTime.IsZero() {
		out.DecideTime = timestamppb.New(p.DecideTime)
	}
	if p.Evidence == nil {
		out.EvidenceMissing = EvidenceMissing
	} else {
		out.Evidence = evidenceToProto(p.Service, *p.Evidence)
	}
	return out
}

// EvidenceMissing is why a promotion has no evidence.
const EvidenceMissing = "recorded before Cairn kept evidence on promotions"

func evidenceToProto(service string, e store.PromotionEvidence) *cairnv1.PromotionEvidence {
	out := &cairnv1.PromotionEvidence{
		ComputeTime:              timestamppb.New(e.ComputeTime),
		Currency:                 e.Currency,
		MonthlyCostChange:        units(e.MonthlyCostChange),
		CostChangeBasis:          e.CostChangeBasis,
		TeamSpent:                units(e.TeamSpent),
		TeamProjected:            units(e.TeamProjected),
		SpendUnknown:             e.SpendUnknown,
		BudgetNote:               e.BudgetNote,
		ProjectedOverBudget:      e.ProjectedOverBudget(),
		ChangeFailureRate:        e.ChangeFailureRate,
		ChangeFailureDeployments: e.ChangeFailureDeployments,
		ChangeFailureBand:        e.ChangeFailureBand,
		RunningRevision:          e.RunningRevision,
	}
	if e.TeamBudget > 0 {
		budget := units(e.TeamBudget)
		out.TeamBudget = &budget
	}
	for _, id := range e.OpenIncidents {
		out.OpenIncidents = append(out.OpenIncidents, "services/"+service+"/incidents/"+id)
	}
	return out
}

// units is micro-units in units, for the API's double fields.
func units(micros int64) float64 { return float64(micros) / 1e6 }
