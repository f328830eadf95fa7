package delivery

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-dev/cairn/store"
)

// Prometheus holds the metrics package's Prometheus metrics, named as the
// platform's dashboards read them. Labels stay bounded: teams and catalog
// services, never revisions, commits or users.
type Prometheus struct {
	leadTime       *prometheus.HistogramVec
	deployments    *prometheus.CounterVec
	supportTickets *prometheus.CounterVec
}

// NewPrometheus registers the metrics package's Prometheus metrics with reg.
func NewPrometheus(reg prometheus.Registerer) *Prometheus {
	p := &Prometheus{
		leadTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "platform_lead_time_seconds",
			Help: "Lead time for changes: from each commit to the successful production deployment that shipped it, observed as the commit is recorded with the deployment.",
			// The DORA bands' edges (an hour, a day, a week, a month) and
			// points between them.
			Buckets: []float64{
				600, 1800, 3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 90 * 86400,
			},
		}, []string{"team", "service"}),
		deployments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "platform_deployments_total",
			Help: "Deployments recorded, by the service's team, environment and outcome (succeeded or failed); each counted once, by the replica that recorded it.",
		}, []string{"team", "environment", "status"}),
		supportTickets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "platform_support_tickets_total",
			Help: "Support tickets raised with the platform team and recorded, by category; each counted once, by the replica that recorded it.",
		}, []string{"category"}),
	}
	reg.MustRegister(p.leadTime, p.deployments, p.supportTickets)
	return p
}

// deployed counts d when recording it created it, and observes the lead
// times of the commits recording it added to a successful deployment to a
// production environment (production says d's is one): all of a new
// one's; of a repeat's, those not recorded yet, from the finish recorded
// first.
func (p *Prometheus) deployed(team string, d store.Deployment, recorded store.RecordedDeployment, production bool) {
	if recorded.Created {
		p.deployments.WithLabelValues(team, d.Environment, d.Status).Inc()
	}
	if recorded.Status != store.DeploymentSucceeded || !production {
		return
	}
	observer := p.leadTime.WithLabelValues(team, d.Service)
	for _, c := range recorded.AddedCommits {
		observer.Observe(recorded.FinishedAt.Sub(c.CommittedAt).Seconds())
	}
}

// ticketRaised counts a newly recorded support ticket.
func (p *Prometheus) ticketRaised(t store.SupportTicket) {
	p.supportTickets.WithLabelValues(t.Category).Inc()
}
