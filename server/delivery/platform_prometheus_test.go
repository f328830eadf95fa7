package delivery

import (
	"bytes"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// scrapeClock is the collector tests' clock: they scrape at it, and
// deployments count when they finished in the 30 days before it.
var scrapeClock = time.Date(2031, 3, 31, 12, 0, 0, 0, time.UTC)

// newPlatformCollector is the collector over st with a clock the test moves,
// logging into the returned buffer.
func newPlatformCollector(st store.PlatformStore) (*PlatformCollector, *time.Time, *bytes.Buffer) {
	var logs bytes.Buffer
	c := NewPlatformCollector(st, slog.New(slog.NewTextHandler(&logs, nil)))
	clock := scrapeClock
	c.now = func() time.Time { return clock }
	return c, &clock, &logs
}

// scrape gathers c's metrics through a pedantic registry, which checks
// them against their descriptions, as Prometheus would scrape them: each
// sample's value by its name and labels in exposition order, such as
// `platform_services{golden_path="true",team="team-orders"}`.
// (prometheus/testutil would say the same, but needs a module Cairn's
// go.mod does not list.)
func scrape(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(c)
	families, err := registry.Gather()
	require.NoError(t, err)
	samples := map[string]float64{}
	for _, family := range families {
		require.Equal(t, "GAUGE", family.GetType().String(), family.GetName())
		for _, m := range family.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+`"`+l.GetValue()+`"`)
			}
			sort.Strings(labels)
			samples[family.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return samples
}

func finishedDaysBeforeScrape(t *testing.T, st store.Store, service, environment, status string, days float64) {
	t.Helper()
	finished := scrapeClock.Add(-time.Duration(days * float64(24*time.Hour)))
	_, err := st.RecordDeployment(t.Context(), store.Deployment{
		Service: service, Environment: environment, Revision: "r" + finished.Format(time.RFC3339Nano), Status: status,
		StartedAt: finished.Add(-time.Minute), FinishedAt: finished,
	})
	require.NoError(t, err)
}

func TestPlatformCollectorExportsActiveServicesAndServicesOnAndOffTheGoldenPath(t *testing.T) {
	st := openSQLite(t)
	platformService(t, st, "orders", "team-orders", true)
	platformService(t, st, "payments", "team-orders", true)
	platformService(t, st, "legacy", "team-orders", false)
	platformService(t, st, "search", "team-search", true)
	succeeded := store.DeploymentSucceeded
	finishedDaysBeforeScrape(t, st, "orders", "production", succeeded, 1)
	finishedDaysBeforeScrape(t, st, "orders", "production", succeeded, 2)
	finishedDaysBeforeScrape(t, st, "orders", "staging", succeeded, 29.9)
	finishedDaysBeforeScrape(t, st, "payments", "production", succeeded, 3)
	finishedDaysBeforeScrape(t, st, "payments", "staging", succeeded, 30)              // the window's start: in
	finishedDaysBeforeScrape(t, st, "legacy", "production", store.DeploymentFailed, 1) // failed: not active
	finishedDaysBeforeScrape(t, st, "search", "production", succeeded, 30.5)           // before the window
	c, _, logs := newPlatformCollector(st)

	require.Equal(t, map[string]float64{
		`platform_active_services{environment="production",team="team-orders"}`: 2, // orders, payments
		`platform_active_services{environment="staging",team="team-orders"}`:    2, // orders, payments
		`platform_services{golden_path="false",team="team-orders"}`:             1,
		`platform_services{golden_path="true",team="team-orders"}`:              2,
		`platform_services{golden_path="false",team="team-search"}`:             0,
		`platform_services{golden_path="true",team="team-search"}`:              1,
	}, scrape(t, c))
	require.Empty(t, logs.String())
}

func TestPlatformCollectorReadsTheStoreAtMostOncePer30Seconds(t *testing.T) {
	st := openSQLite(t)
	platformService(t, st, "orders", "team-orders", true)
	c, clock, _ := newPlatformCollector(st)
	require.Len(t, scrape(t, c), 2)

	platformService(t, st, "search", "team-search", false)
	*clock = scrapeClock.Add(29 * time.Second)
	require.Len(t, scrape(t, c), 2, "read again within 30 s")
	*clock = scrapeClock.Add(30 * time.Second)
	require.Len(t, scrape(t, c), 4, "not read again after 30 s")
}

func TestPlatformCollectorLeavesOutWhatTheStoreFailsToReadAndTheScrapeSucceeds(t *testing.T) {
	st := openSQLite(t)
	platformService(t, st, "orders", "team-orders", true)
	c, clock, logs := newPlatformCollector(st)
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(c, collectors.NewGoCollector())
	require.NoError(t, st.Close())

	families, err := registry.Gather()
	require.NoError(t, err, "a store that fails does not fail the scrape")
	require.NotEmpty(t, families, "the other collectors' metrics are served")
	for _, family := range families {
		require.NotContains(t, []string{"platform_active_services", "platform_services"}, family.GetName())
	}
	require.Contains(t, logs.String(), "platform_active_services left out of the scrape")
	require.Contains(t, logs.String(), "platform_services left out of the scrape")

	// The failure is kept as a success would be: no read until the period
	// ends, then one.
	logs.Reset()
	require.Empty(t, scrape(t, c))
	require.Empty(t, logs.String())
	*clock = scrapeClock.Add(platformCacheTTL)
	require.Empty(t, scrape(t, c))
	require.Contains(t, logs.String(), "left out of the scrape")
}
