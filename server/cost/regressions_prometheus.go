package cost

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-dev/cairn/store"
)

// RegressionCollector exports each team's cost regressions over the last
// 30 days (DORA's default window), read when Prometheus scrapes:
//
//   - platform_cost_regression_rate{team}: regressions over the changes
//     with a verdict; left out for a team with no verdict yet.
//   - platform_cost_judged_changes{team} and platform_cost_regressions{team}:
//     the two counts, so that an organisation's rate is
//     sum(platform_cost_regressions) / sum(platform_cost_judged_changes).
//
// Verdicts move with daily billing, so what it reads is kept for
// regressionCacheTTL. A read that fails is logged and the team's samples
// left out, never failing the scrape.
type RegressionCollector struct {
	store       RegressionTeams
	regressions *Regressions
	logger      *slog.Logger
	now         func() time.Time

	mu      sync.Mutex // held while reading, so concurrent scrapes wait for one read
	readAt  time.Time
	samples []prometheus.Metric
}

// RegressionTeams is what the collector reads the teams and their
// services from.
type RegressionTeams interface {
	ListTeams(ctx context.Context, after string, limit int) ([]store.Team, error)
	ServiceNames(ctx context.Context, team string) ([]string, error)
}

const (
	regressionCacheTTL    = 5 * time.Minute
	regressionReadTimeout = 5 * time.Second
	regressionRateDays    = 30
	teamPage              = 500
)

var (
	regressionRateDesc = prometheus.NewDesc("platform_cost_regression_rate",
		"Changes of the team's services in the last 30 days that were cost regressions, over those with a cost verdict.",
		[]string{"team"}, nil)
	judgedChangesDesc = prometheus.NewDesc("platform_cost_judged_changes",
		"Changes of the team's services in the last 30 days with a cost verdict.",
		[]string{"team"}, nil)
	regressionsDesc = prometheus.NewDesc("platform_cost_regressions",
		"Changes of the team's services in the last 30 days judged cost regressions.",
		[]string{"team"}, nil)
)

// NewRegressionCollector returns the collector of the cost regression
// gauges over the teams of st, judged by r.
func NewRegressionCollector(st RegressionTeams, r *Regressions, logger *slog.Logger) *RegressionCollector {
	return &RegressionCollector{store: st, regressions: r, logger: logger, now: time.Now}
}

// Describe implements prometheus.Collector.
func (c *RegressionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- regressionRateDesc
	ch <- judgedChangesDesc
	ch <- regressionsDesc
}

// Collect implements prometheus.Collector.
func (c *RegressionCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	now := c.now()
	if c.readAt.IsZero() || now.Sub(c.readAt) >= regressionCacheTTL {
		c.samples = c.read(now)
		c.readAt = now
	}
	samples := c.samples
	c.mu.Unlock()
	for _, m := range samples {
		ch <- m
	}
}

func (c *RegressionCollector) read(now time.Time) []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), regressionReadTimeout)
	defer cancel()
	var samples []prometheus.Metric
	for after := ""; ; {
		teams, err := c.store.ListTeams(ctx, after, teamPage)
		if err != nil {
			c.logger.Warn("metrics: platform_cost_regression_rate left out of the scrape", "error", err)
			return samples
		}
		for _, team := range teams {
			samples = append(samples, c.team(ctx, team.Name, now)...)
		}
		if len(teams) < teamPage {
			return samples
		}
		after = teams[len(teams)-1].Name
	}
}

func (c *RegressionCollector) team(ctx context.Context, team string, now time.Time) []prometheus.Metric {
	services, err := c.store.ServiceNames(ctx, team)
	if err != nil {
		c.logger.Warn("metrics: a team's cost regressions left out of the scrape", "team", team, "error", err)
		return nil
	}
	rate, err := c.regressions.Rate(ctx, services, now.AddDate(0, 0, -regressionRateDays), now)
	if err != nil {
		c.logger.Warn("metrics: a team's cost regressions left out of the scrape", "team", team, "error", err)
		return nil
	}
	samples := []prometheus.Metric{
		prometheus.MustNewConstMetric(judgedChangesDesc, prometheus.GaugeValue, float64(rate.Judged), team),
		prometheus.MustNewConstMetric(regressionsDesc, prometheus.GaugeValue, float64(rate.Regressions), team),
	}
	if value, reason := rate.Value(); reason == "" {
		samples = append(samples, prometheus.MustNewConstMetric(regressionRateDesc, prometheus.GaugeValue, value, team))
	}
	return samples
}
