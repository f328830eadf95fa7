package cost

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/pagetoken"
	"github.com/cairn-dev/cairn/store"
)

// DefaultAnomalyThresholdPercent is the month-over-month growth past which a
// service is an anomaly: the cost card highlights the same 10%.
const DefaultAnomalyThresholdPercent = 10

// servicePage is how many catalog entries one store read takes.
const servicePage = 500

// serviceTotals is one service's cost of a month and the month before.
type serviceTotals struct {
	service, team     string
	current, previous money.Sum
}

// totals returns the month's and the previous month's totals of every
// service the filter selects, in name order.
func (s *Server) totals(ctx context.Context, filter store.ServiceFilter, start, now time.Time) ([]serviceTotals, error) {
	var out []serviceTotals
	for after := ""; ; {
		services, err := s.store.ListServices(ctx, filter, after, servicePage)
		if err != nil {
			return nil, err
		}
		for _, svc := range services {
			current, previous, _, err := s.monthLines(ctx, svc.Name, start, now)
			if err != nil {
				return nil, err
			}
			out = append(out, serviceTotals{service: svc.Name, team: svc.Team, current: Sum(current), previous: Sum(previous)})
		}
		if len(services) < servicePage {
			return out, nil
		}
		after = services[len(services)-1].Name
	}
}

// GetTeamCost implements CostService: a team's showback for a month, in
// total and per service, billed where imported and estimated where not.
func (s *Server) GetTeamCost(ctx context.Context, req *cairnv1.GetTeamCostRequest) (*cairnv1.GetTeamCostResponse, error) {
	team := strings.TrimPrefix(req.GetName(), "teams/")
	now := s.now().UTC()
	start, err := monthStart(req.GetMonth(), now)
	if err != nil {
		return nil, err
	}
	totals, err := s.totals(ctx, store.ServiceFilter{Team: team}, start, now)
	if err != nil {
		return nil, err
	}
	resp := &cairnv1.GetTeamCostResponse{
		Team: team, Month: start.Format(monthLayout), Currency: s.config.Currency,
		Services: make([]*cairnv1.ServiceCostSummary, 0, len(totals)),
	}
	var current, previous money.Sum
	for _, t := range totals {
		current = current.Add(t.current)
		previous = previous.Add(t.previous)
		resp.Services = append(resp.Services, &cairnv1.ServiceCostSummary{
			ServiceName: t.service, MonthlyCost: units(t.current),
			PreviousMonthlyCost: units(t.previous), Trend: trend(t.current, t.previous),
		})
	}
	resp.TotalMonthlyCost, resp.PreviousMonthlyCost = units(current), units(previous)
	return resp, nil
}

// ListCostAnomalies implements CostService: the services whose cost grew
// past the threshold over the previous month, largest growth first. A
// service that cost nothing the month before has no growth rate and is not
// listed.
func (s *Server) ListCostAnomalies(ctx context.Context, req *cairnv1.ListCostAnomaliesRequest) (*cairnv1.ListCostAnomaliesResponse, error) {
	now := s.now().UTC()
	start, err := monthStart(req.GetMonth(), now)
	if err != nil {
		return nil, err
	}
	threshold := req.GetThresholdPercent()
	if threshold == 0 {
		threshold = DefaultAnomalyThresholdPercent
	}
	totals, err := s.totals(ctx, store.ServiceFilter{}, start, now)
	if err != nil {
		return nil, err
	}
	return pageAnomalies(anomaliesOf(totals, threshold), req)
}

// anomaliesOf are the services of totals whose cost grew past threshold
// percent, largest growth first.
func anomaliesOf(totals []serviceTotals, threshold float64) []*cairnv1.CostAnomaly {
	var anomalies []*cairnv1.CostAnomaly
	for _, t := range totals {
		if t.previous.Sign() <= 0 {
			continue
		}
		growth := t.current.Sub(t.previous).Float64() * 100 / t.previous.Float64()
		if growth > threshold {
			anomalies = append(anomalies, &cairnv1.CostAnomaly{
				ServiceName: t.service, Team: t.team, MonthlyCost: units(t.current),
				PreviousMonthlyCost: units(t.previous), GrowthPercent: growth,
			})
		}
	}
	slices.SortStableFunc(anomalies, func(a, b *cairnv1.CostAnomaly) int {
		switch {
		case a.GrowthPercent > b.GrowthPercent:
			return -1
		case a.GrowthPercent < b.GrowthPercent:
			return 1
		}
		return strings.Compare(a.ServiceName, b.ServiceName)
	})
	return anomalies
}

// pageAnomalies cuts the sorted anomalies to the requested page. The token
// holds the position: the list is computed afresh on every call.
func pageAnomalies(anomalies []*cairnv1.CostAnomaly, req *cairnv1.ListCostAnomaliesRequest) (*cairnv1.ListCostAnomaliesResponse, error) {
	query := req.GetMonth() + "|" + strconv.FormatFloat(req.GetThresholdPercent(), 'g', -1, 64)
	skip, err := pagetoken.DecodeInt(req.GetPageToken(), query)
	if err != nil {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "page_token", Description: err.Error()})
	}
	offset := int(min(skip, int64(len(anomalies))))
	size := pagetoken.Size(req.GetPageSize())
	page := anomalies[offset:min(offset+size, len(anomalies))]
	resp := &cairnv1.ListCostAnomaliesResponse{Anomalies: page}
	if offset+size < len(anomalies) {
		resp.NextPageToken = pagetoken.Encode(strconv.Itoa(offset+size), query)
	}
	if resp.Anomalies == nil {
		resp.Anomalies = []*cairnv1.CostAnomaly{}
	}
	return resp, nil
}
