package cost

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/pagetoken"
)

// defaultRegressionDays is the period ListCostRegressions covers without
// dates: the 30 days up to today, as DORA's default window.
const defaultRegressionDays = 30

// ListCostRegressions implements CostService: the changes of a service or
// of a team's services in the period, newest first, with their verdicts.
func (s *Server) ListCostRegressions(ctx context.Context, req *cairnv1.ListCostRegressionsRequest) (*cairnv1.ListCostRegressionsResponse, error) {
	from, to, err := s.regressionPeriod(req)
	if err != nil {
		return nil, err
	}
	var services []string
	switch parent := req.GetParent(); {
	case strings.HasPrefix(parent, "services/"):
		name := strings.TrimPrefix(parent, "services/")
		if err := s.requireService(ctx, name); err != nil {
			return nil, err
		}
		services = []string{name}
	case strings.HasPrefix(parent, "teams/"):
		// A team without services has no changes, as it costs zero.
		if services, err = s.teamServices(ctx, strings.TrimPrefix(parent, "teams/")); err != nil {
			return nil, err
		}
	default:
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "parent", Description: "must be services/{service} or teams/{team}"})
	}
	query := fmt.Sprintf("%s|%d|%d|%t", req.GetParent(), from.Unix(), to.Unix(), req.GetRegressionsOnly())
	skip, err := pagetoken.DecodeInt(req.GetPageToken(), query)
	if err != nil {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "page_token", Description: err.Error()})
	}
	judged, err := s.regressions.Judge(ctx, services, from, to)
	if err != nil {
		return nil, err
	}
	slices.Reverse(judged) // newest first
	if req.GetRegressionsOnly() {
		judged = slices.DeleteFunc(judged, func(c ChangeCost) bool { return c.Verdict != VerdictRegression })
	}
	cfg := s.config.Regressions
	resp := &cairnv1.ListCostRegressionsResponse{
		Currency: s.config.Currency, WindowDays: int32(cfg.Days), ThresholdPercent: cfg.ThresholdPercent,
		FloorMonthly: cfg.FloorMonthly.Float64(),
	}
	offset := int(min(skip, int64(len(judged))))
	size := pagetoken.Size(req.GetPageSize())
	end := min(offset+size, len(judged))
	for _, c := range judged[offset:end] {
		resp.Changes = append(resp.Changes, changeToProto(c))
	}
	if end < len(judged) {
		resp.NextPageToken = pagetoken.Encode(strconv.Itoa(end), query)
	}
	return resp, nil
}

// regressionPeriod is the request's period as [from, to), UTC midnights:
// both dates, or neither for the 30 days up to today.
func (s *Server) regressionPeriod(req *cairnv1.ListCostRegressionsRequest) (from, to time.Time, err error) {
	switch start, end := req.GetStartDate(), req.GetEndDate(); {
	case start == nil && end == nil:
		to = utcDay(s.now()).AddDate(0, 0, 1)
		return to.AddDate(0, 0, -defaultRegressionDays), to, nil
	case start == nil:
		return from, to, apierr.Invalid(apierr.FieldViolation{Field: "start_date", Description: "is required with end_date"})
	case end == nil:
		return from, to, apierr.Invalid(apierr.FieldViolation{Field: "end_date", Description: "is required with start_date"})
	default:
		return dailyRange(start, end)
	}
}

func changeToProto(c ChangeCost) *cairnv1.CostChange {
	out := &cairnv1.CostChange{
		ServiceName: c.Service, Kind: c.Kind, Environment: c.Environment, Revision: c.Revision,
		ChangeTime: timestamppb.New(c.Time), Verdict: c.Verdict, PendingReason: c.PendingReason,
		MissingDays: int32(c.MissingDays), PromotionId: c.PromotionID,
	}
	if c.Judged() {
		before, after, monthly := c.BeforeDaily(), c.AfterDaily(), c.MonthlyChange()
		out.BeforeDailyCost, out.AfterDailyCost, out.MonthlyChange = &before, &after, &monthly
		if growth, ok := c.GrowthPercent(); ok {
			out.GrowthPercent = &growth
		}
	}
	return out
}
