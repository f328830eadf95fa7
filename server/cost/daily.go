package cost

import (
	"context"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/type/date"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/store"
)

// maxDailyDays is the most days a daily cost request spans, its first and
// last included: a year, leap or not.
const maxDailyDays = 366

// The daily costs are billed costs alone, from imported billing: unlike the
// monthly ones, they fall back to no estimate, as estimates are monthly,
// not daily. A day without billed rows costs zero.

// GetServiceDailyCost implements CostService: the service's billed cost per
// day, one entry per day of the range, zero for days without billing.
func (s *Server) GetServiceDailyCost(ctx context.Context, req *cairnv1.GetServiceDailyCostRequest) (*cairnv1.GetServiceDailyCostResponse, error) {
	name := strings.TrimPrefix(req.GetName(), "services/")
	from, to, err := dailyRange(req.GetStartDate(), req.GetEndDate())
	if err != nil {
		return nil, err
	}
	if err := s.requireService(ctx, name); err != nil {
		return nil, err
	}
	days, err := s.dailyCosts(ctx, []string{name}, from, to)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetServiceDailyCostResponse{Currency: s.config.Currency, Days: days}, nil
}

// GetTeamDailyCost implements CostService: the billed cost per day of the
// team's services together, one entry per day of the range, zero for days
// without billing. A team without services costs zero every day.
func (s *Server) GetTeamDailyCost(ctx context.Context, req *cairnv1.GetTeamDailyCostRequest) (*cairnv1.GetTeamDailyCostResponse, error) {
	team := strings.TrimPrefix(req.GetName(), "teams/")
	from, to, err := dailyRange(req.GetStartDate(), req.GetEndDate())
	if err != nil {
		return nil, err
	}
	services, err := s.teamServices(ctx, team)
	if err != nil {
		return nil, err
	}
	days, err := s.dailyCosts(ctx, services, from, to)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetTeamDailyCostResponse{Currency: s.config.Currency, Days: days}, nil
}

// teamServices are the names of the team's services, paging through the
// catalog.
func (s *Server) teamServices(ctx context.Context, team string) ([]string, error) {
	var names []string
	for after := ""; ; {
		services, err := s.store.ListServices(ctx, store.ServiceFilter{Team: team}, after, servicePage)
		if err != nil {
			return nil, err
		}
		for _, svc := range services {
			names = append(names, svc.Name)
		}
		if len(services) < servicePage {
			return names, nil
		}
		after = services[len(services)-1].Name
	}
}

// dailyCosts are the services' billed costs of each day in [from, to), UTC
// midnights: every day, zero where nothing was billed, so that a chart of
// them has no gaps.
func (s *Server) dailyCosts(ctx context.Context, services []string, from, to time.Time) ([]*cairnv1.DailyCost, error) {
	billed, err := s.store.DailyBilling(ctx, services, from, to)
	if err != nil {
		return nil, err
	}
	// Only billing in the configured currency counts: see billedLines.
	byDay := make(map[time.Time]money.Sum, len(billed))
	for _, b := range billed {
		if b.Currency == s.config.Currency {
			byDay[b.Day.UTC()] = byDay[b.Day.UTC()].Add(b.EffectiveCost)
		}
	}
	var days []*cairnv1.DailyCost
	for day := from; day.Before(to); day = day.AddDate(0, 0, 1) {
		days = append(days, &cairnv1.DailyCost{
			Date: &date.Date{Year: int32(day.Year()), Month: int32(day.Month()), Day: int32(day.Day())},
			Cost: units(byDay[day]),
		})
	}
	return days, nil
}

// dailyRange is the range of a daily cost request as [from, to), UTC
// midnights: from is the start date, to the day after the end date. It
// reports every violation of the dates at once.
func dailyRange(start, end *date.Date) (from, to time.Time, err error) {
	var violations []apierr.FieldViolation
	from, startErr := dayOf(start)
	if startErr != "" {
		violations = append(violations, apierr.FieldViolation{Field: "start_date", Description: startErr})
	}
	last, endErr := dayOf(end)
	if endErr != "" {
		violations = append(violations, apierr.FieldViolation{Field: "end_date", Description: endErr})
	}
	if len(violations) > 0 {
		return from, to, apierr.Invalid(violations...)
	}
	to = last.AddDate(0, 0, 1)
	switch {
	case last.Before(from):
		return from, to, apierr.Invalid(apierr.FieldViolation{Field: "end_date", Description: "must not be before start_date"})
	case to.After(from.AddDate(0, 0, maxDailyDays)):
		return from, to, apierr.Invalid(apierr.FieldViolation{
			Field: "end_date", Description: "must be at most 366 days from start_date, both included",
		})
	}
	return from, to, nil
}

// dayOf is a date's UTC midnight, or why the date is not a full, valid one.
func dayOf(d *date.Date) (time.Time, string) {
	if d == nil {
		return time.Time{}, "is required"
	}
	y, m, dd := int(d.GetYear()), time.Month(d.GetMonth()), int(d.GetDay())
	day := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	if y < 1 || y > 9999 || day.Year() != y || day.Month() != m || day.Day() != dd {
		return time.Time{}, "must be a valid date with a year (1 to 9999), a month and a day, such as 2026-03-31"
	}
	return day, ""
}
