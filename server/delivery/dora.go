package delivery

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/store"
)

// Windows are whole days, as the API's `Nd` says them.
const (
	DefaultWindowDays = 30
	MaxWindowDays     = 999
	day               = 24 * time.Hour
)

// Units of a metric's value.
const (
	UnitDeploysPerDay = "deploys_per_day"
	UnitSeconds       = "seconds"
	UnitRatio         = "ratio"
)

// DORA 2023 performance bands.
const (
	BandElite  = "elite"
	BandHigh   = "high"
	BandMedium = "medium"
	BandLow    = "low"
)

// Four Keys' deployment frequency classes.
const (
	ClassDaily   = "daily"
	ClassWeekly  = "weekly"
	ClassMonthly = "monthly"
	ClassYearly  = "yearly"
)

// Window is the period DORA metrics are computed over: Days whole days
// ending at End, [Start, End).
type Window struct {
	Days       int
	Start, End time.Time
}

// String is the window as the API writes it, such as `30d`.
func (w Window) String() string { return strconv.Itoa(w.Days) + "d" }

// previous is the window of as many days just before w.
func (w Window) previous() Window {
	return Window{Days: w.Days, Start: w.Start.Add(-time.Duration(w.Days) * day), End: w.Start}
}

// windowPattern is a window as the API writes it: 1 to 999 days.
var windowPattern = regexp.MustCompile(`^([1-9][0-9]{0,2})d$`)

// parseWindow reads a window such as `30d` ending at now, in UTC and whole
// microseconds as the store keeps times; "" is the default window.
func parseWindow(s string, now time.Time) (Window, error) {
	days := DefaultWindowDays
	if s != "" {
		m := windowPattern.FindStringSubmatch(s)
		if m == nil {
			return Window{}, apierr.Invalid(apierr.FieldViolation{
				Field: "window", Description: fmt.Sprintf("must be a number of days from 1d to %dd, such as 30d", MaxWindowDays),
			})
		}
		days, _ = strconv.Atoi(m[1]) // three digits at most
	}
	end := now.UTC().Truncate(time.Microsecond)
	return Window{Days: days, Start: end.Add(-time.Duration(days) * day), End: end}, nil
}

// Dora is the four DORA metrics of a window, each with its value over the
// window before.
type Dora struct {
	Window              Window
	DeploymentFrequency Metric
	LeadTimeForChanges  Metric
	ChangeFailureRate   Metric
	TimeToRestore       Metric
	// CostRegressionRate counts the window's changes judged on cost.
	CostRegressionRate CostRegressionRate
}

// Metric is one DORA metric of a window.
type Metric struct {
	Value float64
	Unit  string
	// Band is the DORA 2023 performance band; "" when there is nothing to
	// measure.
	Band string
	// Previous is the value over the window before.
	Previous float64
	// FrequencyClass is Four Keys' class, for deployment frequency only.
	FrequencyClass string
	// Samples counts what the value is computed from: successful
	// deployments, commits, deployments or resolved incidents.
	Samples int64
}

// computeDora computes the metrics of window w from its facts and from the
// facts of the window before, by the definitions in the package comment.
func computeDora(w Window, current, previous store.DeliveryFacts) Dora {
	now, before := tally(current, w.Days), tally(previous, w.Days)
	return Dora{
		Window: w,
		DeploymentFrequency: Metric{
			Value: now.deploysPerDay, Unit: UnitDeploysPerDay, Band: frequencyBand(now.succeeded, w.Days),
			Previous: before.deploysPerDay, FrequencyClass: frequencyClass(current.Days, w), Samples: now.succeeded,
		},
		LeadTimeForChanges: Metric{
			Value: now.leadTime.Seconds(), Unit: UnitSeconds, Band: leadTimeBand(now.leadTime, len(current.LeadTimes)),
			Previous: before.leadTime.Seconds(), Samples: int64(len(current.LeadTimes)),
		},
		ChangeFailureRate: Metric{
			Value: now.failureRate(), Unit: UnitRatio, Band: failureRateBand(now.failures, now.deployments),
			Previous: before.failureRate(), Samples: now.deployments,
		},
		TimeToRestore: Metric{
			Value: now.restoreTime.Seconds(), Unit: UnitSeconds, Band: restoreBand(now.restoreTime, len(current.RestoreTimes)),
			Previous: before.restoreTime.Seconds(), Samples: int64(len(current.RestoreTimes)),
		},
	}
}

// windowTally is what one window's facts add up to.
type windowTally struct {
	succeeded     int64
	deployments   int64 // succeeded and failed
	failures      int64 // failed, or successful and named as an incident's cause
	deploysPerDay float64
	leadTime      time.Duration // median; 0 for none
	restoreTime   time.Duration // median; 0 for none
}

func tally(f store.DeliveryFacts, days int) windowTally {
	var t windowTally
	for _, d := range f.Days {
		t.succeeded += d.Succeeded
		t.deployments += d.Succeeded + d.Failed
		t.failures += d.Failed + d.IncidentCausing
	}
	t.deploysPerDay = float64(t.succeeded) / float64(days)
	t.leadTime = median(f.LeadTimes)
	t.restoreTime = median(f.RestoreTimes)
	return t
}

func (t windowTally) failureRate() float64 {
	if t.deployments == 0 {
		return 0
	}
	return float64(t.failures) / float64(t.deployments)
}

// median is the middle of ds, or the mean of the two middle values of an
// even number of them; 0 for none. ds is left as it is. It selects rather
// than sorts: a window's lead times run to many thousands.
func median(ds []time.Duration) time.Duration {
	n := len(ds)
	if n == 0 {
		return 0
	}
	xs := slices.Clone(ds)
	upper := selectNth(xs, n/2)
	if n%2 == 1 {
		return upper
	}
	// selectNth left the n/2 smallest values before the upper middle one.
	return (slices.Max(xs[:n/2]) + upper) / 2
}

// selectNth returns the k-th smallest of xs (from 0), reordering xs so that
// no value before index k is greater and none after it smaller: a
// quickselect with a three-way partition, which keeps runs of equal values
// from making it quadratic.
func selectNth(xs []time.Duration, k int) time.Duration {
	lo, hi := 0, len(xs) // the k-th smallest is in xs[lo:hi]
	for hi-lo > 1 {
		a, b, c := xs[lo], xs[lo+(hi-lo)/2], xs[hi-1]
		pivot := max(min(a, b), min(max(a, b), c)) // the median of the three
		// xs[lo:lt] < pivot, xs[lt:i] == pivot, xs[gt:hi] > pivot.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch {
			case xs[i] < pivot:
				xs[lt], xs[i] = xs[i], xs[lt]
				lt++
				i++
			case xs[i] > pivot:
				gt--
				xs[gt], xs[i] = xs[i], xs[gt]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return pivot
		}
	}
	return xs[k]
}

// frequencyBand: elite at least daily, high at least weekly, medium at
// least monthly (30 days), low less often. Compared in integers, so that 4
// deployments in 28 days are exactly weekly.
func frequencyBand(deployments int64, days int) string {
	n := int64(days)
	switch {
	case deployments >= n:
		return BandElite
	case deployments*7 >= n:
		return BandHigh
	case deployments*30 >= n:
		return BandMedium
	}
	return BandLow
}

// leadTimeBand: elite under a day, high under a week, medium under 30 days,
// low longer; none without commits.
func leadTimeBand(median time.Duration, samples int) string {
	switch {
	case samples == 0:
		return ""
	case median < day:
		return BandElite
	case median < 7*day:
		return BandHigh
	case median < 30*day:
		return BandMedium
	}
	return BandLow
}

// failureRateBand: elite up to 5%, high up to 10%, medium up to 15%, low
// above; none without deployments. Compared in integers, so that 1 in 20
// is exactly 5%.
func failureRateBand(failures, deployments int64) string {
	switch {
	case deployments == 0:
		return ""
	case failures*100 <= 5*deployments:
		return BandElite
	case failures*100 <= 10*deployments:
		return BandHigh
	case failures*100 <= 15*deployments:
		return BandMedium
	}
	return BandLow
}

// restoreBand: elite under an hour, high under a day, medium under a week,
// low longer; none without resolved incidents.
func restoreBand(median time.Duration, samples int) string {
	switch {
	case samples == 0:
		return ""
	case median < time.Hour:
		return BandElite
	case median < day:
		return BandHigh
	case median < 7*day:
		return BandMedium
	}
	return BandLow
}

// frequencyClass is Four Keys' deployment frequency class of window w,
// given its deployment days (see the package comment). Its weeks start on
// Sunday, as BigQuery's WEEK, which Four Keys truncates to, does.
func frequencyClass(days []store.DeploymentDay, w Window) string {
	deployed := make(map[time.Time]bool, len(days))
	for _, d := range days {
		if d.Succeeded > 0 {
			deployed[d.Day] = true
		}
	}
	type week struct {
		start        time.Time
		deployedDays int
	}
	var weeks []week
	first := w.Start.Truncate(day) // UTC midnight: w is in UTC
	for d := first; d.Before(w.End); d = d.Add(day) {
		start := d.AddDate(0, 0, -int(d.Weekday()))
		if len(weeks) == 0 || !weeks[len(weeks)-1].start.Equal(start) {
			weeks = append(weeks, week{start: start})
		}
		if deployed[d] {
			weeks[len(weeks)-1].deployedDays++
		}
	}
	daysPerWeek := make([]float64, len(weeks))
	weekDeployed := make([]float64, len(weeks))
	weeksDeployedInMonth := make(map[time.Time]float64)
	monthOf := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }
	for i, wk := range weeks {
		daysPerWeek[i] = float64(wk.deployedDays)
		if wk.deployedDays > 0 {
			weekDeployed[i] = 1
			weeksDeployedInMonth[monthOf(wk.start)]++
		}
	}
	monthly := make([]float64, len(weeks))
	for i, wk := range weeks {
		monthly[i] = weeksDeployedInMonth[monthOf(wk.start)]
	}
	switch {
	case interpolatedMedian(daysPerWeek) >= 3:
		return ClassDaily
	case interpolatedMedian(weekDeployed) >= 1:
		return ClassWeekly
	case interpolatedMedian(monthly) >= 1:
		return ClassMonthly
	}
	return ClassYearly
}

// interpolatedMedian is PERCENTILE_CONT(x, 0.5): the middle value, or the
// mean of the two middle ones. xs is sorted in place.
func interpolatedMedian(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return 0
	}
	slices.Sort(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
