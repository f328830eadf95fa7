package provisioning

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// Metrics are provisioning's Prometheus metrics, named as the platform's
// dashboards already read them. Labels stay bounded: templates, teams,
// resource types; never services, revisions or users.
type Metrics struct {
	creations   *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	selfService *prometheus.CounterVec
	manual      *prometheus.CounterVec
}

// NewMetrics registers provisioning's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		creations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "platform_service_creations_total",
			Help: "Service creations requested through Cairn, by template, team and outcome.",
		}, []string{"template", "team", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "platform_provisioning_duration_seconds",
			Help:    "Time from a create request to each resource's first Ready condition.",
			Buckets: []float64{30, 60, 120, 300, 600, 900, 1800},
		}, []string{"resource_type", "provider"}),
		selfService: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "platform_self_service_provisions_total",
			Help: "Resources requested through Cairn.",
		}, []string{"resource_type"}),
		manual: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "platform_manual_provisions_total",
			Help: "Claims of the platform's kinds that appeared on the cluster without Cairn.",
		}, []string{"resource_type"}),
	}
	reg.MustRegister(m.creations, m.duration, m.selfService, m.manual)
	// Every resource type's series exist from the start, at zero, so that
	// rates and ratios over them answer before the first claim of a kind.
	for _, kind := range []string{manifest.KindDatabaseClaim, manifest.KindBucketClaim} {
		m.duration.WithLabelValues(kind, provider)
		m.selfService.WithLabelValues(kind)
		m.manual.WithLabelValues(kind)
	}
	return m
}

// provider is what turns claims into cloud resources.
const provider = "crossplane"

func (m *Metrics) serviceCreated(spec store.ProvisioningSpec, status string) {
	template := spec.Template
	if template == "" {
		template = "none"
	}
	m.creations.WithLabelValues(template, spec.Team, status).Inc()
	if status != "accepted" {
		return
	}
	if spec.Database != "" {
		m.selfService.WithLabelValues(manifest.KindDatabaseClaim).Inc()
	}
	if spec.Bucket {
		m.selfService.WithLabelValues(manifest.KindBucketClaim).Inc()
	}
}

// manualClaim counts a claim someone made without Cairn.
func (m *Metrics) manualClaim(kind string) { m.manual.WithLabelValues(kind).Inc() }

// provisioned records how long a resource took to become ready.
func (m *Metrics) provisioned(kind string, seconds float64) {
	m.duration.WithLabelValues(kind, provider).Observe(seconds)
}
