package cost

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/type/date"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/notify"
	"github.com/cairn-dev/cairn/server/pagetoken"
	"github.com/cairn-dev/cairn/store"
)

// A day's billed cost is scored against the service's own recent days by
// a modified z-score (Iglewicz and Hoaglin): 0.6745 x (cost - median) /
// MAD, where median and MAD (the median of absolute deviations from the
// median) are of the days with billing among the trailing BaselineDays.
// Median and MAD, unlike mean and standard deviation, are not dragged by
// the spikes they are meant to find. 0.6745 makes the MAD comparable with
// a standard deviation of normally spread costs.
const (
	// BaselineDays is how many days before the scored day make its baseline.
	BaselineDays = 28
	// MinBaselineDays is how many of them must have billing for a score: a
	// median of fewer days says little about the service.
	MinBaselineDays = 14
	// DailyAnomalyScore is the modified z-score past which a day is an
	// anomaly: Iglewicz and Hoaglin's 3.5.
	DailyAnomalyScore = 3.5
	// FlatBaselineMarginPercent is how far above the median of a baseline
	// without spread (MAD zero) a day must cost to be an anomaly: the 1%
	// within which the cost card calls costs stable.
	FlatBaselineMarginPercent = 1
	// madScale is the 0.6745 of the modified z-score.
	madScale = 0.6745
)

// dailyVerdict is how one service's day compares with its baseline.
type dailyVerdict struct {
	anomaly  *cairnv1.DailyCostAnomaly // nil when the day is ordinary
	unscored bool                      // too few days with billing to judge
}

// scoreDay judges cost against the baseline of the days with billing
// before it. Amounts are in units of the currency.
func scoreDay(cost float64, baseline []float64) dailyVerdict {
	if len(baseline) < MinBaselineDays {
		return dailyVerdict{unscored: true}
	}
	median := medianOf(baseline)
	deviations := make([]float64, len(baseline))
	for i, b := range baseline {
		deviations[i] = math.Abs(b - median)
	}
	mad := medianOf(deviations)
	an := &cairnv1.DailyCostAnomaly{
		Cost: cost, BaselineMedian: median, BaselineMad: mad, BaselineDayCount: int32(len(baseline)),
	}
	if mad == 0 {
		// No spread to divide by: a fixed daily charge. Any rise past the
		// margin is a change of what is billed.
		if cost > median*(1+FlatBaselineMarginPercent/100.0) {
			an.FlatBaseline = true
			return dailyVerdict{anomaly: an}
		}
		return dailyVerdict{}
	}
	score := madScale * (cost - median) / mad
	if score > DailyAnomalyScore {
		an.ModifiedZScore = &score
		return dailyVerdict{anomaly: an}
	}
	return dailyVerdict{}
}

// medianOf is the middle value of values, the mean of the two middle ones
// for an even count; values must not be empty. It sorts a copy.
func medianOf(values []float64) float64 {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// dailyAnomalies scores every catalog service's billed cost of day (a UTC
// midnight) against its trailing BaselineDays. Services without billing
// on the day are not judged. Only billing in the configured currency
// counts, as everywhere else.
func (s *Server) dailyAnomalies(ctx context.Context, day time.Time) (anomalies []*cairnv1.DailyCostAnomaly, unscored int32, err error) {
	from := day.AddDate(0, 0, -BaselineDays)
	for after := ""; ; {
		services, err := s.store.ListServices(ctx, store.ServiceFilter{}, after, servicePage)
		if err != nil {
			return nil, 0, err
		}
		for _, svc := range services {
			billed, err := s.store.DailyBilling(ctx, []string{svc.Name}, from, day.AddDate(0, 0, 1))
			if err != nil {
				return nil, 0, err
			}
			var cost money.Sum
			var billedOnDay bool
			var baseline []float64
			for _, b := range billed {
				if b.Currency != s.config.Currency {
					continue
				}
				if b.Day.UTC().Equal(day) {
					cost, billedOnDay = b.EffectiveCost, true
					continue
				}
				baseline = append(baseline, units(b.EffectiveCost))
			}
			if !billedOnDay {
				continue
			}
			verdict := scoreDay(units(cost), baseline)
			if verdict.unscored {
				unscored++
			}
			if verdict.anomaly != nil {
				verdict.anomaly.ServiceName, verdict.anomaly.Team = svc.Name, svc.Team
				anomalies = append(anomalies, verdict.anomaly)
			}
		}
		if len(services) < servicePage {
			break
		}
		after = services[len(services)-1].Name
	}
	slices.SortStableFunc(anomalies, compareDailyAnomalies)
	return anomalies, unscored, nil
}

// compareDailyAnomalies orders scored anomalies by score, highest first,
// then flat-baseline ones by their excess over the median, then by name.
func compareDailyAnomalies(a, b *cairnv1.DailyCostAnomaly) int {
	if a.FlatBaseline != b.FlatBaseline {
		if a.FlatBaseline {
			return 1
		}
		return -1
	}
	ka, kb := a.GetModifiedZScore(), b.GetModifiedZScore()
	if a.FlatBaseline {
		ka, kb = a.Cost-a.BaselineMedian, b.Cost-b.BaselineMedian
	}
	switch {
	case ka > kb:
		return -1
	case ka < kb:
		return 1
	}
	return strings.Compare(a.ServiceName, b.ServiceName)
}

// lastCompleteDay is the UTC midnight of the day before now's.
func lastCompleteDay(now time.Time) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), now.Day()-1, 0, 0, 0, 0, time.UTC)
}

// ListDailyCostAnomalies implements CostService: the services whose billed
// cost of the day is an anomaly against their trailing 28 days.
func (s *Server) ListDailyCostAnomalies(ctx context.Context, req *cairnv1.ListDailyCostAnomaliesRequest) (*cairnv1.ListDailyCostAnomaliesResponse, error) {
	day := lastCompleteDay(s.now())
	if req.GetDate() != nil {
		d, problem := dayOf(req.GetDate())
		if problem != "" {
			return nil, apierr.Invalid(apierr.FieldViolation{Field: "date", Description: problem})
		}
		day = d
	}
	query := "daily|" + day.Format(time.DateOnly)
	skip, err := pagetoken.DecodeInt(req.GetPageToken(), query)
	if err != nil {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "page_token", Description: err.Error()})
	}
	anomalies, unscored, err := s.dailyAnomalies(ctx, day)
	if err != nil {
		return nil, err
	}
	page, next := offsetPage(anomalies, skip, req.GetPageSize(), query)
	return &cairnv1.ListDailyCostAnomaliesResponse{
		Date:     &date.Date{Year: int32(day.Year()), Month: int32(day.Month()), Day: int32(day.Day())},
		Currency: s.config.Currency, Anomalies: page, UnscoredServiceCount: unscored, NextPageToken: next,
	}, nil
}

// offsetPage cuts a list computed afresh on every call to the page after
// skip items; the token holds the position.
func offsetPage[T any](items []T, skip int64, pageSize int32, query string) (page []T, next string) {
	offset := int(min(skip, int64(len(items))))
	size := pagetoken.Size(pageSize)
	page = items[offset:min(offset+size, len(items))]
	if offset+size < len(items) {
		next = pagetoken.Encode(strconv.Itoa(offset+size), query)
	}
	if page == nil {
		page = []T{}
	}
	return page, next
}

// DailyAnomalyAlerts is the notifier's source of daily cost anomalies.
type DailyAnomalyAlerts struct{ s *Server }

// DailyAnomalyAlerts returns the source that tells a team when one of its
// services' billed cost of the last complete day is a daily anomaly.
func (s *Server) DailyAnomalyAlerts() DailyAnomalyAlerts { return DailyAnomalyAlerts{s: s} }

// Interval makes the notifier look at daily anomalies once an
// AnomalyInterval: billing arrives by import, at most a few times a day.
func (DailyAnomalyAlerts) Interval() time.Duration { return AnomalyInterval }

// Events are the anomalies of the last complete day, each keyed by service
// and day so that a service-day is told once.
func (a DailyAnomalyAlerts) Events(ctx context.Context) ([]notify.Event, error) {
	day := lastCompleteDay(a.s.now())
	anomalies, _, err := a.s.dailyAnomalies(ctx, day)
	if err != nil {
		return nil, err
	}
	currency, when := a.s.config.Currency, day.Format(time.DateOnly)
	var events []notify.Event
	for _, an := range anomalies {
		why := fmt.Sprintf("a robust z-score of %.1f", an.GetModifiedZScore())
		if an.GetFlatBaseline() {
			why = "it cost the same on at least half of them"
		}
		events = append(events, notify.Event{
			Key: fmt.Sprintf("daily-cost-anomaly/%s/%s", an.GetServiceName(), when), Kind: "daily_cost_anomaly",
			Team: an.GetTeam(), Service: an.GetServiceName(),
			Title: fmt.Sprintf("Daily cost anomaly: %s, %s", an.GetServiceName(), when),
			Text: fmt.Sprintf("%s was billed %.2f %s on %s against a median of %.2f %s over its %d days with billing before (%s).",
				an.GetServiceName(), an.GetCost(), currency, when, an.GetBaselineMedian(), currency, an.GetBaselineDayCount(), why),
			Recipient: a.s.teamGroup(an.GetTeam()),
		})
	}
	return events, nil
}
