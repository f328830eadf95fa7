package cost

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/store"
)

// A cost regression is a change of a service (a successful production
// deployment, or an approved production promotion no deployment shipped)
// after which the service's billed cost grew. For a change on UTC day D,
// the before-window is the N whole days before D, [D-N, D), and the
// after-window the N whole days after it, [D+1, D+1+N): the change's own
// day is left out, as it is billed partly before and partly after the
// change. A change has a verdict once the after-window has ended (today is
// D+1+N or later) and every day of both windows has billing in the
// configured currency: a day without any is missing, not zero, since
// billing arrives days late and a missing day would read as a saving.
// Rows of another currency are left out, as everywhere in this package.
//
// With a verdict, the change is a regression when the after-window's
// average daily cost exceeds the before-window's by more than
// ThresholdPercent of it and by more than FloorMonthly over a month of 30
// days; both are compared exactly, in micro-units. Its size is the
// difference of the averages times 30: the monthly change.

// Verdicts of a change.
const (
	VerdictRegression   = "regression"
	VerdictNoRegression = "no_regression"
	VerdictPending      = "pending"
)

// Why a change has no verdict yet.
const (
	// PendingAfterWindowOpen: the after-window has not ended.
	PendingAfterWindowOpen = "AFTER_WINDOW_OPEN"
	// PendingBillingMissing: some day of the windows has no billing.
	PendingBillingMissing = "BILLING_MISSING"
)

// monthDays is the month a daily difference is scaled to.
const monthDays = 30

// RegressionConfig is the cost.regressions section.
type RegressionConfig struct {
	// Days is N, the whole UTC days on each side of a change's day.
	Days int `yaml:"days"`
	// ThresholdPercent is the growth of the average daily cost, in
	// percent, past which a change is a regression.
	ThresholdPercent float64 `yaml:"thresholdPercent"`
	// FloorMonthly is the monthly growth past which a change is a
	// regression, so that a few cents on a cheap service are not one.
	FloorMonthly Micros `yaml:"floorMonthly"`
}

// MaxRegressionDays bounds Days: a quarter each side.
const MaxRegressionDays = 90

// DefaultRegressionConfig: a week each side, 15%, 10 units a month.
func DefaultRegressionConfig() RegressionConfig {
	return RegressionConfig{Days: 7, ThresholdPercent: 15, FloorMonthly: 10 * microsPerUnit}
}

func (c RegressionConfig) validate() []error {
	var errs []error
	if c.Days < 1 || c.Days > MaxRegressionDays {
		errs = append(errs, fmt.Errorf("cost: regressions.days %d: want 1 to %d", c.Days, MaxRegressionDays))
	}
	if math.IsNaN(c.ThresholdPercent) || math.IsInf(c.ThresholdPercent, 0) || c.ThresholdPercent < 0 {
		errs = append(errs, fmt.Errorf("cost: regressions.thresholdPercent %v: want a percent of 0 or more, such as 15", c.ThresholdPercent))
	}
	if c.FloorMonthly < 0 {
		errs = append(errs, fmt.Errorf("cost: regressions.floorMonthly %s: must not be negative", c.FloorMonthly))
	}
	return errs
}

// ChangeCost is a change and its cost verdict.
type ChangeCost struct {
	store.Change
	Verdict string
	// PendingReason says why Verdict is VerdictPending.
	PendingReason string
	// MissingDays counts the days of the windows without billing.
	MissingDays int
	// Before and After are the windows' billed costs, summed; zero while
	// pending.
	Before, After money.Sum
	days          int
}

// Judged reports whether the change has a verdict.
func (c ChangeCost) Judged() bool { return c.Verdict != VerdictPending }

// BeforeDaily and AfterDaily are the windows' average daily costs, in
// currency units.
func (c ChangeCost) BeforeDaily() float64 { return units(c.Before) / float64(c.days) }
func (c ChangeCost) AfterDaily() float64  { return units(c.After) / float64(c.days) }

// GrowthPercent is the growth of the average daily cost; false when the
// cost before was zero.
func (c ChangeCost) GrowthPercent() (float64, bool) {
	if c.Before.Sign() == 0 {
		return 0, false
	}
	return c.After.Sub(c.Before).Float64() * 100 / c.Before.Float64(), true
}

// MonthlyChange is the difference of the averages over a month of 30
// days, in currency units.
func (c ChangeCost) MonthlyChange() float64 {
	return units(c.After.Sub(c.Before)) * monthDays / float64(c.days)
}

// RegressionStore is what cost regressions are computed from.
type RegressionStore interface {
	store.ChangeStore
	DailyBilling(ctx context.Context, services []string, from, to time.Time) ([]store.DailyCost, error)
}

// Regressions judges changes on their services' billed cost.
type Regressions struct {
	store      RegressionStore
	config     RegressionConfig
	currency   string
	production []string
	now        func() time.Time
}

// NewRegressions judges, by cfg's regressions section and in its
// currency, the changes to the production environments.
func NewRegressions(st RegressionStore, cfg Config, production []string) *Regressions {
	return &Regressions{store: st, config: cfg.Regressions, currency: cfg.Currency, production: production, now: time.Now}
}

// Judge returns the services' changes in [from, to), oldest first, each
// with its verdict. It reads the changes, then each service's daily
// billing once, over the span its changes' windows cover, and sums each
// window from running totals: one store read a service, whatever the
// number of changes.
func (r *Regressions) Judge(ctx context.Context, services []string, from, to time.Time) ([]ChangeCost, error) {
	changes, err := r.store.ListChanges(ctx, services, r.production, from, to)
	if err != nil || len(changes) == 0 {
		return nil, err
	}
	days := make([]store.ChangeDay, len(changes))
	for i, c := range changes {
		days[i] = store.ChangeDay{Service: c.Service, Day: utcDay(c.Time), Changes: 1}
	}
	billing, today, err := r.billing(ctx, days)
	if err != nil {
		return nil, err
	}
	judged := make([]ChangeCost, len(changes))
	for i, c := range changes {
		judged[i] = r.judge(c, billing[c.Service], today)
	}
	return judged, nil
}

// billing reads the daily billing of each service of days over the span
// its days' windows cover, up to today, which it returns too.
func (r *Regressions) billing(ctx context.Context, days []store.ChangeDay) (map[string]*billedSeries, time.Time, error) {
	today := utcDay(r.now())
	n := r.config.Days
	spans := map[string]*billedSeries{}
	for _, c := range days {
		lo, hi := c.Day.AddDate(0, 0, -n), minTime(c.Day.AddDate(0, 0, 1+n), today)
		if s := spans[c.Service]; s == nil {
			spans[c.Service] = &billedSeries{from: lo, to: hi}
		} else {
			s.from, s.to = minTime(s.from, lo), maxTime(s.to, hi)
		}
	}
	for service, s := range spans {
		if !s.to.After(s.from) {
			continue // no day of any window has ended
		}
		billed, err := r.store.DailyBilling(ctx, []string{service}, s.from, s.to)
		if err != nil {
			return nil, today, err
		}
		s.fill(billed, r.currency)
	}
	return spans, today, nil
}

// judge gives c its verdict from its service's billing s.
func (r *Regressions) judge(c store.Change, s *billedSeries, today time.Time) ChangeCost {
	n := r.config.Days
	out := ChangeCost{Change: c, Verdict: VerdictPending, days: n}
	d := utcDay(c.Time)
	beforeFrom, afterFrom, afterTo := d.AddDate(0, 0, -n), d.AddDate(0, 0, 1), d.AddDate(0, 0, 1+n)
	if afterTo.After(today) {
		out.PendingReason = PendingAfterWindowOpen
		return out
	}
	before, beforeBilled := s.window(beforeFrom, d)
	after, afterBilled := s.window(afterFrom, afterTo)
	if missing := 2*n - beforeBilled - afterBilled; missing > 0 {
		out.PendingReason, out.MissingDays = PendingBillingMissing, missing
		return out
	}
	out.Before, out.After = before, after
	out.Verdict = VerdictNoRegression
	if r.isRegression(before, after) {
		out.Verdict = VerdictRegression
	}
	return out
}

// isRegression compares the windows' sums (of as many days each, so that
// their averages compare as the sums do), exactly: after exceeds before by
// more than ThresholdPercent of it, and the daily difference times 30 is
// more than FloorMonthly.
func (r *Regressions) isRegression(before, after money.Sum) bool {
	diff := after.Sub(before)
	if diff.Sign() <= 0 {
		return false
	}
	// diff/before*100 > threshold, as diff*100 > before*threshold.
	threshold := new(big.Rat).SetFloat64(r.config.ThresholdPercent) // finite: validated
	lhs := new(big.Rat).SetInt(new(big.Int).Mul(diff.Big(), big.NewInt(100)))
	if lhs.Cmp(new(big.Rat).Mul(new(big.Rat).SetInt(before.Big()), threshold)) <= 0 {
		return false
	}
	// diff/N*30 > floor, as diff*30 > floor*N.
	monthly := new(big.Int).Mul(diff.Big(), big.NewInt(monthDays))
	floor := new(big.Int).Mul(big.NewInt(int64(r.config.FloorMonthly)), big.NewInt(int64(r.config.Days)))
	return monthly.Cmp(floor) > 0
}

// Rate counts the services' changes in [from, to), those with a verdict
// and the regressions among them: the cost regression rate beside DORA's
// change failure rate. It reads the changes counted per service and day,
// as all of a service's changes of a day are judged alike.
func (r *Regressions) Rate(ctx context.Context, services []string, from, to time.Time) (delivery.CostRegressionRate, error) {
	days, err := r.store.CountChangeDays(ctx, services, r.production, from, to)
	if err != nil || len(days) == 0 {
		return delivery.CostRegressionRate{}, err
	}
	billing, today, err := r.billing(ctx, days)
	if err != nil {
		return delivery.CostRegressionRate{}, err
	}
	var rate delivery.CostRegressionRate
	for _, d := range days {
		c := r.judge(store.Change{Service: d.Service, Time: d.Day}, billing[d.Service], today)
		rate.Changes += d.Changes
		if c.Judged() {
			rate.Judged += d.Changes
		}
		if c.Verdict == VerdictRegression {
			rate.Regressions += d.Changes
		}
	}
	return rate, nil
}

// billedSeries is a service's billing over [from, to), as running totals
// by day, so that any window sums in constant time.
type billedSeries struct {
	from, to time.Time
	// costs[i] sums the days before from+i; billed[i] counts those that
	// have billing.
	costs  []money.Sum
	billed []int
}

func (s *billedSeries) fill(days []store.DailyCost, currency string) {
	n := int(s.to.Sub(s.from) / (24 * time.Hour))
	day := make([]money.Sum, n)
	has := make([]bool, n)
	for _, d := range days {
		if d.Currency != currency {
			continue
		}
		i := int(d.Day.UTC().Sub(s.from) / (24 * time.Hour))
		if i >= 0 && i < n {
			day[i], has[i] = day[i].Add(d.EffectiveCost), true
		}
	}
	s.costs, s.billed = make([]money.Sum, n+1), make([]int, n+1)
	for i := range n {
		s.costs[i+1] = s.costs[i].Add(day[i])
		s.billed[i+1] = s.billed[i]
		if has[i] {
			s.billed[i+1]++
		}
	}
}

// window is the cost and the number of billed days of [from, to), which
// lies within the series once filled.
func (s *billedSeries) window(from, to time.Time) (money.Sum, int) {
	if s.costs == nil {
		return money.Sum{}, 0
	}
	i, j := s.index(from), s.index(to)
	return s.costs[j].Sub(s.costs[i]), s.billed[j] - s.billed[i]
}

func (s *billedSeries) index(t time.Time) int {
	return max(0, min(len(s.costs)-1, int(t.Sub(s.from)/(24*time.Hour))))
}

// utcDay is t's UTC midnight.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
