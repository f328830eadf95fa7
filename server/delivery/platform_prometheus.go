package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-dev/cairn/store"
)

// PlatformCollector exports the catalog's services and their activity as
// Prometheus gauges, read from the store when Prometheus scrapes:
//
//   - platform_active_services{team,environment}: the catalog's services
//     with a successful deployment to the environment that finished in the
//     last 30 days, per team (the active services of GetPlatformMetrics).
//   - platform_services{team,golden_path}: the catalog's services per team,
//     on the golden path ("true") or not ("false"); both are exported for
//     every team, so golden-path adoption is
//     sum(platform_services{golden_path="true"}) / sum(platform_services).
//
// Labels are teams and environments, never services or people. What it
// reads is kept for platformCacheTTL, so that many scrapes, or several
// Prometheus servers, cost the store one read of each per period. A read
// that fails is logged and its samples are left out of the scrape, never
// failing it; the next scrape after the period reads again.
type PlatformCollector struct {
	store  store.PlatformStore
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex // held while reading, so concurrent scrapes wait for one read
	readAt  time.Time  // zero before the first read
	samples []prometheus.Metric
}

const (
	// platformCacheTTL is how long the gauges' values are kept.
	platformCacheTTL = 30 * time.Second
	// platformReadTimeout bounds each store read of a scrape, inside
	// Prometheus's default scrape timeout of 10 s.
	platformReadTimeout = 5 * time.Second
	// activeServicesWindow is the period platform_active_services counts.
	activeServicesWindow = DefaultWindowDays * day
)

var (
	activeServicesDesc = prometheus.NewDesc("platform_active_services",
		"Catalog services with a successful deployment to the environment in the last 30 days, per team.",
		[]string{"team", "environment"}, nil)
	servicesDesc = prometheus.NewDesc("platform_services",
		"Catalog services per team, made from a golden-path template (golden_path=\"true\") or not.",
		[]string{"team", "golden_path"}, nil)
)

// NewPlatformCollector returns the collector of the platform gauges over
// st; register it with the registry /metrics serves.
func NewPlatformCollector(st store.PlatformStore, logger *slog.Logger) *PlatformCollector {
	return &PlatformCollector{store: st, logger: logger, now: time.Now}
}

// Describe implements prometheus.Collector.
func (c *PlatformCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- activeServicesDesc
	ch <- servicesDesc
}

// Collect implements prometheus.Collector.
func (c *PlatformCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	now := c.now()
	if c.readAt.IsZero() || now.Sub(c.readAt) >= platformCacheTTL {
		c.samples = append(c.activeServices(now), c.services()...)
		c.readAt = now
	}
	samples := c.samples
	c.mu.Unlock()
	for _, m := range samples {
		ch <- m
	}
}

func (c *PlatformCollector) activeServices(now time.Time) []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), platformReadTimeout)
	defer cancel()
	counts, err := c.store.CountActiveServices(ctx, now.Add(-activeServicesWindow), now)
	if err != nil {
		c.logger.Warn("metrics: platform_active_services left out of the scrape", "error", err)
		return nil
	}
	samples := make([]prometheus.Metric, 0, len(counts))
	for _, a := range counts {
		samples = append(samples, prometheus.MustNewConstMetric(activeServicesDesc, prometheus.GaugeValue, float64(a.Count), a.Team, a.Environment))
	}
	return samples
}

func (c *PlatformCollector) services() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), platformReadTimeout)
	defer cancel()
	counts, err := c.store.CountServices(ctx)
	if err != nil {
		c.logger.Warn("metrics: platform_services left out of the scrape", "error", err)
		return nil
	}
	// Both values for every team, so that a team's adoption is a ratio of
	// two series that exist, 0 included.
	type teamCounts struct{ golden, other int64 }
	var teams []string
	byTeam := map[string]*teamCounts{}
	for _, sc := range counts {
		tc := byTeam[sc.Team]
		if tc == nil {
			tc = &teamCounts{}
			byTeam[sc.Team] = tc
			teams = append(teams, sc.Team)
		}
		if sc.GoldenPath {
			tc.golden = sc.Count
		} else {
			tc.other = sc.Count
		}
	}
	samples := make([]prometheus.Metric, 0, 2*len(teams))
	for _, team := range teams {
		tc := byTeam[team]
		samples = append(samples,
			prometheus.MustNewConstMetric(servicesDesc, prometheus.GaugeValue, float64(tc.golden), team, "true"),
			prometheus.MustNewConstMetric(servicesDesc, prometheus.GaugeValue, float64(tc.other), team, "false"),
		)
	}
	return samples
}
