package delivery

import (
	"context"
	"time"
)

// Reasons a cost regression rate is unavailable.
const (
	// CostRateNoChanges: no change in the window.
	CostRateNoChanges = "NO_CHANGES"
	// CostRateNoVerdicts: no change in the window has a verdict yet.
	CostRateNoVerdicts = "NO_VERDICTS"
)

// CostRegressionRate counts a window's changes, those with a cost verdict
// and the cost regressions among them (see cost.Regressions).
type CostRegressionRate struct {
	Changes, Judged, Regressions int64
}

// Value is regressions over the changes with a verdict, or why there is
// none: CostRateNoChanges or CostRateNoVerdicts.
func (r CostRegressionRate) Value() (float64, string) {
	switch {
	case r.Changes == 0:
		return 0, CostRateNoChanges
	case r.Judged == 0:
		return 0, CostRateNoVerdicts
	}
	return float64(r.Regressions) / float64(r.Judged), ""
}

// CostRegressionRater computes the cost regression rate of services'
// changes in [from, to).
type CostRegressionRater interface {
	Rate(ctx context.Context, services []string, from, to time.Time) (CostRegressionRate, error)
}

// WithCostRegressions has DORA metrics carry the cost regression rate that
// r computes, and returns s.
func (s *Service) WithCostRegressions(r CostRegressionRater) *Service {
	s.costRegressions = r
	return s
}
