package cost

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/server/provisioning"
	"github.com/cairn-dev/cairn/store"
)

// Trends of a breakdown line against the month before.
const (
	TrendUp     = "up"
	TrendDown   = "down"
	TrendStable = "stable"
)

// monthLayout is the API's month, YYYY-MM.
const monthLayout = "2006-01"

// Store is what the cost service uses: the catalog, provisionings,
// imported billing data, teams' budgets, and services' first deployments
// (for the template ledgers).
type Store interface {
	GetService(ctx context.Context, name string) (*store.Service, error)
	ListServices(ctx context.Context, filter store.ServiceFilter, after string, limit int) ([]*store.Service, error)
	GetProvisioning(ctx context.Context, service string) (store.Provisioning, error)
	ListProvisionings(ctx context.Context, after string, limit int) ([]store.Provisioning, error)
	FirstDeployments(ctx context.Context, from, to time.Time) ([]store.FirstDeployment, error)
	store.BillingStore
	store.BudgetStore
	store.ChangeStore
}

// Server serves CostService. Methods it does not implement yet answer
// UNIMPLEMENTED through the embedded UnimplementedCostServiceServer.
type Server struct {
	cairnv1.UnimplementedCostServiceServer
	store     Store
	config    Config
	workloads Workloads // nil without a cluster
	teams     entityref.Teams
	settings  manifest.Settings // the promotion path creates are checked against
	dora      DoraBands         // nil: ledgers spread no DORA bands
	now       func() time.Time
	// regressions judges the changes to the path's production
	// environments.
	regressions *Regressions
}

// NewServer returns the CostService over st, pricing with cfg, which should
// have passed Validate, and estimating services' Deployments from
// workloads, when there is a cluster (else nil). Planned creates are
// checked against teams as CreateService checks them.
func NewServer(st Store, cfg Config, workloads Workloads, teams entityref.Teams, settings manifest.Settings) *Server {
	return &Server{
		store: st, config: cfg, workloads: workloads, teams: teams, settings: settings, now: time.Now,
		regressions: NewRegressions(st, cfg, settings.ProductionEnvironments()),
	}
}

// EstimateServiceCost implements CostService: it checks the planned create
// as CreateService would and prices what it would provision and what the
// service would run (PlannedWorkload). It touches neither the store nor a
// cluster.
func (s *Server) EstimateServiceCost(_ context.Context, req *cairnv1.EstimateServiceCostRequest) (*cairnv1.EstimateServiceCostResponse, error) {
	r := req.GetRequest()
	if r == nil {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "request", Description: "is required: the CreateService request to estimate"})
	}
	spec, err := provisioning.SpecOf(provisioning.Request{
		Name: r.GetName(), Description: r.GetDescription(), Owner: r.GetOwner(), Template: r.GetTemplate(),
		Database: r.GetDatabase(), DatabaseSize: r.GetDatabaseSize(), RepositoryURL: r.GetRepositoryUrl(),
		Bucket: r.GetBucket(), Environments: r.GetEnvironments(), ReplicaCount: r.GetReplicaCount(),
	}, s.teams, s.settings)
	if err != nil {
		return nil, underRequest(err)
	}
	lines := append(s.config.Prices.Estimate(r.GetName(), spec, s.settings), s.config.plannedLines(r.GetName(), spec, s.settings)...)
	return &cairnv1.EstimateServiceCostResponse{
		ServiceName:      r.GetName(),
		TotalMonthlyCost: units(Sum(lines)),
		Currency:         s.config.Currency,
		Breakdown:        breakdown(lines, lines),
	}, nil
}

// underRequest points the field violations of a create request's check at
// the estimate's `request` field.
func underRequest(err error) error {
	var apiErr *apierr.Error
	if !errors.As(err, &apiErr) || len(apiErr.Violations) == 0 {
		return err
	}
	moved := *apiErr
	moved.Violations = make([]apierr.FieldViolation, len(apiErr.Violations))
	for i, v := range apiErr.Violations {
		if v.Field != "request" {
			v.Field = "request." + v.Field
		}
		moved.Violations[i] = v
	}
	return apierr.Invalid(moved.Violations...)
}

// GetServiceCost implements CostService: the service's cost of the month
// and the month before, per resource, in the Backstage cost card's shape;
// each line says whether it was billed or estimated.
func (s *Server) GetServiceCost(ctx context.Context, req *cairnv1.GetServiceCostRequest) (*cairnv1.GetServiceCostResponse, error) {
	name := strings.TrimPrefix(req.GetName(), "services/")
	now := s.now().UTC()
	start, err := monthStart(req.GetMonth(), now)
	if err != nil {
		return nil, err
	}
	if err := s.requireService(ctx, name); err != nil {
		return nil, err
	}
	current, previous, lastUpdated, err := s.monthLines(ctx, name, start, now)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetServiceCostResponse{
		ServiceName:         name,
		TotalMonthlyCost:    units(Sum(current)),
		PreviousMonthlyCost: units(Sum(previous)),
		Currency:            s.config.Currency,
		Breakdown:           breakdown(current, previous),
		LastUpdated:         timestamppb.New(lastUpdated),
		Month:               start.Format(monthLayout),
	}, nil
}

// requireService answers NOT_FOUND for a service the catalog does not hold.
func (s *Server) requireService(ctx context.Context, name string) error {
	_, err := s.store.GetService(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return apierr.NotFound("service", name)
	}
	return err
}

// monthStart is the first instant of a YYYY-MM month, or of now's month
// when month is empty.
func monthStart(month string, now time.Time) (time.Time, error) {
	if month == "" {
		return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), nil
	}
	// protovalidate checked the pattern; this catches a caller that skipped
	// the interceptors.
	start, err := time.Parse(monthLayout, month)
	if err != nil {
		return start, apierr.Invalid(apierr.FieldViolation{Field: "month", Description: "must be YYYY-MM, such as 2026-03"})
	}
	return start, nil
}

// monthLines are a service's cost lines of the month starting at start and
// of the month before: billed where billing data for the month was
// imported, estimated where not.
func (s *Server) monthLines(ctx context.Context, name string, start, now time.Time) (current, previous []Line, lastUpdated time.Time, err error) {
	lastUpdated = now
	month, monthBefore := start.Format(monthLayout), start.AddDate(0, -1, 0).Format(monthLayout)
	billed, err := s.store.ServiceBilling(ctx, name, month, monthBefore)
	if err != nil {
		return nil, nil, now, err
	}
	billedNow, billedBefore := s.billedLines(billed[month]), s.billedLines(billed[monthBefore])
	if billedNow != nil || billedBefore != nil {
		if lastUpdated, err = s.store.LastBillingImport(ctx); err != nil {
			return nil, nil, now, err
		}
	}
	if billedNow != nil && billedBefore != nil {
		// Billed months need no estimate: nothing more to read.
		return billedNow, billedBefore, lastUpdated, nil
	}
	estimatedNow, estimatedBefore, err := s.estimatedLines(ctx, name, start)
	if err != nil {
		return nil, nil, now, err
	}
	return billedOr(billedNow, estimatedNow), billedOr(billedBefore, estimatedBefore), lastUpdated, nil
}

// billedOr prefers a month's billed lines to its estimate.
func billedOr(billed, estimated []Line) []Line {
	if billed != nil {
		return billed
	}
	return estimated
}

// billedLines are a month's imported billing in the configured currency,
// one line per resource; nil when none was imported. Billing in another
// currency (imported before imports were held to the configured one, or
// before it changed) is left out: amounts of two currencies are never
// added together, and Cairn converts none.
func (s *Server) billedLines(billed []store.BilledResource) []Line {
	var lines []Line
	for _, b := range billed {
		if b.Currency != s.config.Currency {
			continue
		}
		lines = append(lines, Line{
			Resource: b.ResourceID, Type: lineType(b.ServiceCategory),
			MonthlyCost: b.EffectiveCost, Source: SourceBilled,
		})
	}
	return lines
}

// lineType names a FOCUS service category the way estimates name theirs.
func lineType(category string) string {
	switch category {
	case "Databases":
		return TypeDatabase
	case "Storage":
		return TypeStorage
	}
	return strings.ToLower(category)
}

// estimatedLines are the estimate of the service's provisioning and its
// Deployments for the month starting at start and the month before. A
// month is charged in full if the provisioning or Deployment existed
// before it ended (no proration), so the month a service is provisioned in
// goes up from zero. Both months are priced from the current spec and
// Deployments: Cairn keeps no history of them.
func (s *Server) estimatedLines(ctx context.Context, name string, start time.Time) (current, previous []Line, err error) {
	prov, err := s.store.GetProvisioning(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Not provisioned by Cairn: no claims to estimate.
	case err != nil:
		return nil, nil, err
	default:
		lines := s.config.Prices.Estimate(name, prov.Spec, s.settings)
		if prov.CreateTime.Before(start.AddDate(0, 1, 0)) {
			current = lines
		}
		if prov.CreateTime.Before(start) {
			previous = lines
		}
	}
	if s.workloads != nil {
		workloadsNow, workloadsBefore := s.config.Prices.workloadLines(s.workloads.Workloads(name), start)
		current = slices.Concat(current, workloadsNow) // new arrays: current and previous may share one
		previous = slices.Concat(previous, workloadsBefore)
	}
	return current, previous, nil
}

// breakdown is the month's lines with their trend against the previous
// month's line of the same resource (zero when it had none).
func breakdown(current, previous []Line) []*cairnv1.CostBreakdown {
	before := make(map[string]money.Sum, len(previous))
	for _, l := range previous {
		before[l.Resource] = before[l.Resource].Add(l.MonthlyCost)
	}
	out := make([]*cairnv1.CostBreakdown, 0, len(current))
	for _, l := range current {
		out = append(out, &cairnv1.CostBreakdown{
			Resource:    l.Resource,
			Type:        l.Type,
			MonthlyCost: units(l.MonthlyCost),
			Trend:       trend(l.MonthlyCost, before[l.Resource]),
			Source:      l.Source,
		})
	}
	return out
}

// trend compares a line with the month before: within 1% is stable, as
// billed months differ by their number of days. The products are exact.
func trend(now, before money.Sum) string {
	n, b := now.Big(), before.Big()
	n.Mul(n, big.NewInt(100))
	switch {
	case n.Cmp(new(big.Int).Mul(b, big.NewInt(101))) > 0:
		return TrendUp
	case n.Cmp(new(big.Int).Mul(b, big.NewInt(99))) < 0:
		return TrendDown
	}
	return TrendStable
}
