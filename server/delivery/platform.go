package delivery

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// Platform computes the platform metrics, which measure the platform itself
// rather than the teams' delivery. Over a window of N days ending now, [now-N days, now), as for
// DORA:
//
//   - Time to first deploy: the median, over the catalog's services whose
//     first successful deployment to any environment finished in the window,
//     of that finish less the service's creation in the catalog. A service
//     whose first deployment finished before its catalog entry was made
//     (registered after it started deploying, or deleted and registered
//     again) is left out: the catalog does not know when it was created.
//     Absent when no service counts.
//   - Provisioning time, per resource type (DatabaseClaim, BucketClaim):
//     the 50th and 95th percentiles, interpolated as PERCENTILE_CONT does,
//     over the claims Cairn applied (labelled app.kubernetes.io/managed-by:
//     cairn) whose Ready condition is True and last turned True in the
//     window, of that time less the create request of the claim's service
//     (its provisioning's creation). Claims without a provisioning, such as
//     those made by hand, are left out. A claim that lost readiness and
//     regained it counts from its latest turn to ready, and a resource
//     added after the service was created counts from the service's create
//     request. Kubernetes keeps condition times in whole seconds, so a
//     time below zero counts as zero. Every resource type is listed, with
//     no percentiles when none counts.
//   - Golden-path adoption: the share of the catalog's services, now, made
//     from a golden-path template (Backstage's source-template annotation,
//     or created through Cairn); 0 for an empty catalog.
//   - Self-service ratio: the share of the claims of the platform's kinds on
//     the cluster now that Cairn applied; claims Cairn did not create count
//     as manual. 0 when there are none.
//   - Support tickets: the tickets opened in the window, per category.
//   - Active services: per team and environment, the catalog's services
//     with at least one successful deployment to the environment that
//     finished in the window, each under its catalog team now.
//
// Provisioning time and the self-service ratio are read from the cluster's
// informer cache. Without a cluster they are empty and 0.
type Platform struct {
	store   PlatformStore
	cluster ClaimsReader // nil without a cluster
	now     func() time.Time
}

// PlatformStore is what the platform metrics read: the catalog and delivery
// events summed in the database, support tickets, and provisionings.
type PlatformStore interface {
	store.PlatformStore
	CountSupportTickets(ctx context.Context, from, to time.Time) ([]store.TicketCount, error)
	GetProvisioning(ctx context.Context, service string) (store.Provisioning, error)
}

// ClaimsReader is what the platform metrics read of the clusters: the
// claims in the informer caches (kube.Cluster or kube.Clusters).
type ClaimsReader interface {
	Claims() []kube.Claim
}

// NewPlatform returns the platform metrics over st and cluster's informer
// cache; cluster is nil when Cairn has none.
func NewPlatform(st PlatformStore, cluster ClaimsReader) *Platform {
	return &Platform{store: st, cluster: cluster, now: time.Now}
}

// PlatformMetrics are the platform metrics of a window.
type PlatformMetrics struct {
	Window Window
	// TimeToFirstDeploy is the median; FirstDeploys counts the services it
	// is the median of, and it is 0 when that is 0.
	TimeToFirstDeploy  time.Duration
	FirstDeploys       int
	ProvisioningTimes  []ProvisioningTime // none without a cluster
	GoldenPathAdoption float64
	SelfServiceRatio   float64
	SupportTickets     []store.TicketCount
	ActiveServices     []store.ActiveServiceCount
}

// ProvisioningTime is the provisioning time of one resource type.
type ProvisioningTime struct {
	ResourceType string
	P50, P95     time.Duration // 0 when Samples is 0
	Samples      int
}

// platformResourceTypes are the resource types provisioning time is given
// for, in the order it lists them.
var platformResourceTypes = []string{manifest.KindDatabaseClaim, manifest.KindBucketClaim}

// Metrics computes the platform metrics over window (such as `30d`; "" for
// 30 days) ending now, by the definitions above.
func (p *Platform) Metrics(ctx context.Context, window string) (PlatformMetrics, error) {
	w, err := parseWindow(window, p.now())
	if err != nil {
		return PlatformMetrics{}, err
	}
	m := PlatformMetrics{Window: w}
	firsts, err := p.store.FirstDeployments(ctx, w.Start, w.End)
	if err != nil {
		return PlatformMetrics{}, err
	}
	m.TimeToFirstDeploy, m.FirstDeploys = timeToFirstDeploy(firsts)
	services, err := p.store.CountServices(ctx)
	if err != nil {
		return PlatformMetrics{}, err
	}
	m.GoldenPathAdoption = goldenPathAdoption(services)
	if m.SupportTickets, err = p.store.CountSupportTickets(ctx, w.Start, w.End); err != nil {
		return PlatformMetrics{}, err
	}
	if m.ActiveServices, err = p.store.CountActiveServices(ctx, w.Start, w.End); err != nil {
		return PlatformMetrics{}, err
	}
	if p.cluster == nil {
		return m, nil
	}
	claims := p.cluster.Claims()
	m.SelfServiceRatio = selfServiceRatio(claims)
	requested, err := p.requestTimes(ctx, claims, w)
	if err != nil {
		return PlatformMetrics{}, err
	}
	m.ProvisioningTimes = provisioningTimes(claims, requested, w)
	return m, nil
}

// requestTimes are the create requests of the services whose claims count
// for provisioning time in w, by service: only those that have a
// provisioning.
func (p *Platform) requestTimes(ctx context.Context, claims []kube.Claim, w Window) (map[string]time.Time, error) {
	requested := map[string]time.Time{}
	for _, c := range claims {
		if !measurable(c, w) {
			continue
		}
		if _, seen := requested[c.Service]; seen {
			continue
		}
		prov, err := p.store.GetProvisioning(ctx, c.Service)
		switch {
		case errors.Is(err, store.ErrNotFound):
			requested[c.Service] = time.Time{} // left out
		case err != nil:
			return nil, err
		default:
			requested[c.Service] = prov.CreateTime
		}
	}
	return requested, nil
}

// measurable reports whether a claim Cairn applied for a service became
// ready in w.
func measurable(c kube.Claim, w Window) bool {
	return c.ManagedByCairn && c.Service != "" && !c.ReadySince.IsZero() &&
		!c.ReadySince.Before(w.Start) && c.ReadySince.Before(w.End)
}

// timeToFirstDeploy is the median time from creation to first deployment
// of the services that were in the catalog before they first deployed, and
// how many they are.
func timeToFirstDeploy(firsts []store.FirstDeployment) (time.Duration, int) {
	var durations []time.Duration
	for _, f := range firsts {
		if !f.FirstDeployedAt.Before(f.CreateTime) {
			durations = append(durations, f.FirstDeployedAt.Sub(f.CreateTime))
		}
	}
	return median(durations), len(durations)
}

// goldenPathAdoption is the share of services on the golden path.
func goldenPathAdoption(counts []store.TeamServiceCount) float64 {
	var golden, all int64
	for _, c := range counts {
		all += c.Count
		if c.GoldenPath {
			golden += c.Count
		}
	}
	if all == 0 {
		return 0
	}
	return float64(golden) / float64(all)
}

// selfServiceRatio is the share of claims Cairn applied.
func selfServiceRatio(claims []kube.Claim) float64 {
	if len(claims) == 0 {
		return 0
	}
	managed := 0
	for _, c := range claims {
		if c.ManagedByCairn {
			managed++
		}
	}
	return float64(managed) / float64(len(claims))
}

// provisioningTimes are the percentiles per resource type of the claims
// that became ready in w less their services' create requests (requested;
// a zero time leaves the service's claims out).
func provisioningTimes(claims []kube.Claim, requested map[string]time.Time, w Window) []ProvisioningTime {
	byType := map[string][]time.Duration{}
	for _, c := range claims {
		created := requested[c.Service]
		if !measurable(c, w) || created.IsZero() {
			continue
		}
		byType[c.Kind] = append(byType[c.Kind], max(c.ReadySince.Sub(created), 0))
	}
	times := make([]ProvisioningTime, 0, len(platformResourceTypes))
	for _, resourceType := range platformResourceTypes {
		durations := byType[resourceType]
		slices.Sort(durations)
		times = append(times, ProvisioningTime{
			ResourceType: resourceType,
			P50:          percentile(durations, 0.50),
			P95:          percentile(durations, 0.95),
			Samples:      len(durations),
		})
	}
	return times
}

// percentile is PERCENTILE_CONT(q) of sorted: the value at rank q*(n-1),
// interpolated linearly between the two closest values; 0 for none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := q * float64(len(sorted)-1)
	lower := int(rank)
	if lower+1 >= len(sorted) {
		return sorted[lower]
	}
	fraction := rank - float64(lower)
	return sorted[lower] + time.Duration(math.Round(fraction*float64(sorted[lower+1]-sorted[lower])))
}

// GetPlatformMetrics implements MetricsService. Every viewer may read the
// platform metrics: they name teams, never people.
func (s *Server) GetPlatformMetrics(ctx context.Context, req *cairnv1.GetPlatformMetricsRequest) (*cairnv1.GetPlatformMetricsResponse, error) {
	m, err := s.platform.Metrics(ctx, req.GetWindow())
	if err != nil {
		return nil, err
	}
	return platformToProto(m), nil
}

func platformToProto(m PlatformMetrics) *cairnv1.GetPlatformMetricsResponse {
	resp := &cairnv1.GetPlatformMetricsResponse{
		GoldenPathAdoption: m.GoldenPathAdoption,
		SelfServiceRatio:   m.SelfServiceRatio,
		ProvisioningTimes:  make([]*cairnv1.ProvisioningTime, 0, len(m.ProvisioningTimes)),
		SupportTickets:     make([]*cairnv1.CategoryCount, 0, len(m.SupportTickets)),
		ActiveServices:     make([]*cairnv1.ActiveServiceCount, 0, len(m.ActiveServices)),
	}
	if m.FirstDeploys > 0 {
		resp.TimeToFirstDeploy = durationpb.New(m.TimeToFirstDeploy)
	}
	for _, t := range m.ProvisioningTimes {
		pt := &cairnv1.ProvisioningTime{ResourceType: t.ResourceType, SampleCount: int64(t.Samples)}
		if t.Samples > 0 {
			pt.P50, pt.P95 = durationpb.New(t.P50), durationpb.New(t.P95)
		}
		resp.ProvisioningTimes = append(resp.ProvisioningTimes, pt)
	}
	for _, t := range m.SupportTickets {
		resp.SupportTickets = append(resp.SupportTickets, &cairnv1.CategoryCount{Category: t.Category, Count: t.Count})
	}
	for _, a := range m.ActiveServices {
		resp.ActiveServices = append(resp.ActiveServices, &cairnv1.ActiveServiceCount{
			Team: a.Team, Environment: a.Environment, Count: a.Count,
		})
	}
	return resp
}
