package cost

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/store"
)

// provisionFrom records a provisioning of a small PostgreSQL and a bucket
// made from template, as CreateService would; the store stamps it now.
func provisionFrom(t *testing.T, st store.Store, name, template string) store.Provisioning {
	t.Helper()
	spec := store.ProvisioningSpec{Owner: "group:default/team-orders", Team: "team-orders", Template: template,
		Database: "postgresql", DatabaseSize: "small", Bucket: true}
	prov, created, err := st.CreateProvisioning(t.Context(), store.Provisioning{Service: name, Spec: spec},
		&store.Service{Name: name, Type: "service", Lifecycle: "experimental", Owner: spec.Owner, Team: spec.Team,
			GoldenPath: true, SourceTemplate: template})
	require.NoError(t, err)
	require.True(t, created)
	return prov
}

func deployed(t *testing.T, st store.Store, service, status string, finished time.Time) {
	t.Helper()
	_, err := st.RecordDeployment(t.Context(), store.Deployment{
		Service: service, Environment: "production", Revision: finished.Format(time.RFC3339), Status: status,
		StartedAt: finished.Add(-time.Minute), FinishedAt: finished,
	})
	require.NoError(t, err)
}

func TestTemplateLedgersCompareEstimatesWithBillingPerResourceType(t *testing.T) {
	onEngines(t, func(t *testing.T, s *Server, st store.Store) {
		a := provisionFrom(t, st, "orders-service", "node-microservice")
		b := provisionFrom(t, st, "cart-service", "node-microservice")
		provisionFrom(t, st, "search-service", "node-microservice")
		provisionFrom(t, st, "billing-service", "go-service")
		_, _, err := st.UpsertService(t.Context(), &store.Service{Name: "legacy-service", Owner: "group:default/team-orders", Team: "team-orders"}, "")
		require.NoError(t, err) // not provisioned by Cairn: in no ledger

		// Two months on, the last complete month began after every provisioning.
		now := time.Date(a.CreateTime.Year(), a.CreateTime.Month()+2, 2, 0, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		month := time.Date(now.Year(), now.Month()-1, 15, 0, 0, 0, 0, time.UTC)

		require.NoError(t, st.MarkProvisioningReady(t.Context(), "orders-service", a.CreateTime.Add(10*time.Minute)))
		require.NoError(t, st.MarkProvisioningReady(t.Context(), "cart-service", b.CreateTime.Add(30*time.Minute)))
		deployed(t, st, "orders-service", store.DeploymentFailed, a.CreateTime.Add(time.Hour))
		deployed(t, st, "orders-service", store.DeploymentSucceeded, a.CreateTime.Add(2*time.Hour))
		deployed(t, st, "orders-service", store.DeploymentSucceeded, a.CreateTime.Add(9*time.Hour))
		deployed(t, st, "cart-service", store.DeploymentSucceeded, b.CreateTime.Add(4*time.Hour))

		bucketRow := billedRow(month, "orders-service", "orders-service-bucket", "USD", 2_300_000)
		bucketRow.ServiceCategory = "Storage"
		importFrom(t, st, "aws",
			billedRow(month, "orders-service", "orders-service-db", "USD", 120_000_000),
			billedRow(month, "cart-service", "cart-service-db", "USD", 143_328_000),
			bucketRow,
			billedRow(month.AddDate(0, -1, 0), "search-service", "search-service-db", "USD", 1_000), // not the month
		)

		// Billing in another currency, from another source, is left out.
		importFrom(t, st, "gcp", billedRow(month, "cart-service", "cart-service-db", "EUR", 999_000_000))

		resp, err := s.ListTemplateLedgers(t.Context(), &cairnv1.ListTemplateLedgersRequest{})
		require.NoError(t, err)
		require.Equal(t, month.Format("2006-01"), resp.GetMonth())
		require.Equal(t, "USD", resp.GetCurrency())
		require.Len(t, resp.GetLedgers(), 2)

		goService := resp.GetLedgers()[0]
		require.Equal(t, "go-service", goService.GetTemplate())
		require.Equal(t, int32(1), goService.GetServiceCount())
		require.Nil(t, goService.GetMedianTimeToFirstDeploy(), "never deployed: no median")
		require.Nil(t, goService.GetProvisioningP50())
		require.Nil(t, goService.MedianMonthlyCost, "never billed: no median")
		require.Zero(t, goService.GetBilledServiceCount())
		require.Empty(t, goService.GetEstimateErrors())

		node := resp.GetLedgers()[1]
		require.Equal(t, "node-microservice", node.GetTemplate())
		require.Equal(t, int32(3), node.GetServiceCount())
		// First successful deployments 2 h and 4 h after the request.
		require.Equal(t, int32(2), node.GetDeployedServiceCount())
		require.Equal(t, 3*time.Hour, node.GetMedianTimeToFirstDeploy().AsDuration())
		// Ready after 10 and 30 minutes: median 20; the 95th percentile's rank
		// is ceil(0.95 x 2) = 2, the 30.
		require.Equal(t, int32(2), node.GetReadyServiceCount())
		require.Equal(t, 20*time.Minute, node.GetProvisioningP50().AsDuration())
		require.Equal(t, 30*time.Minute, node.GetProvisioningP95().AsDuration())
		// Billed 122.30 (orders) and 143.328 (cart): median 132.814.
		require.Equal(t, int32(2), node.GetBilledServiceCount())
		require.InDelta(t, 132.814, node.GetMedianMonthlyCost(), 1e-9)

		// Each database is estimated at 109.72 (2 x 0.072 x 730 + 2 x 20 x
		// 0.115): 219.44 against 263.328 billed, 16.67% under, factor 1.2.
		// The bucket, billed for orders alone: 2.30 against 2.30.
		require.Len(t, node.GetEstimateErrors(), 2)
		db := node.GetEstimateErrors()[0]
		require.Equal(t, "database", db.GetResourceType())
		require.Equal(t, int32(2), db.GetServiceCount())
		require.InDelta(t, 219.44, db.GetEstimatedCost(), 1e-9)
		require.InDelta(t, 263.328, db.GetBilledCost(), 1e-9)
		require.InDelta(t, -16.666666666, db.GetErrorPercent(), 1e-6)
		require.InDelta(t, 1.2, db.GetFactor(), 1e-9)
		storage := node.GetEstimateErrors()[1]
		require.Equal(t, "storage", storage.GetResourceType())
		require.Equal(t, int32(1), storage.GetServiceCount())
		require.InDelta(t, 0, storage.GetErrorPercent(), 1e-9)
		require.InDelta(t, 1, storage.GetFactor(), 1e-9)

		first, err := s.ListTemplateLedgers(t.Context(), &cairnv1.ListTemplateLedgersRequest{PageSize: 1})
		require.NoError(t, err)
		require.Equal(t, "go-service", first.GetLedgers()[0].GetTemplate())
		second, err := s.ListTemplateLedgers(t.Context(), &cairnv1.ListTemplateLedgersRequest{PageSize: 1, PageToken: first.GetNextPageToken()})
		require.NoError(t, err)
		require.Equal(t, "node-microservice", second.GetLedgers()[0].GetTemplate())
		require.Empty(t, second.GetNextPageToken())
	})
}

func TestTemplateLedgersCompareNoEstimateOfAServiceProvisionedDuringTheMonth(t *testing.T) {
	onEngines(t, func(t *testing.T, s *Server, st store.Store) {
		a := provisionFrom(t, st, "orders-service", "node-microservice")
		nextMonth := time.Date(a.CreateTime.Year(), a.CreateTime.Month()+1, 2, 0, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return nextMonth } // the last complete month is the creation's
		importFrom(t, st, "aws", billedRow(a.CreateTime, "orders-service", "orders-service-db", "USD", 50_000_000))

		resp, err := s.ListTemplateLedgers(t.Context(), &cairnv1.ListTemplateLedgersRequest{})
		require.NoError(t, err)
		require.Equal(t, int32(1), resp.GetLedgers()[0].GetBilledServiceCount())
		require.InDelta(t, 50, resp.GetLedgers()[0].GetMedianMonthlyCost(), 1e-9)
		require.Empty(t, resp.GetLedgers()[0].GetEstimateErrors(), "a month billed in part is no test of a full month's estimate")
	})
}

// bandsOf are services' DORA bands, as the metrics service would read
// them; the banding itself is the delivery package's, tested there.
type bandsOf map[string]ServiceBands

func (b bandsOf) ServiceBands(_ context.Context, service string) (ServiceBands, error) {
	bands, ok := b[service]
	if !ok {
		return ServiceBands{}, store.ErrNotFound
	}
	return bands, nil
}

func TestTemplateLedgersSpreadTheServicesOverTheDoraBandsOfEachMetric(t *testing.T) {
	s, st := newTestServer(t)
	for _, name := range []string{"orders-service", "cart-service", "search-service", "gone-service"} {
		provisionFrom(t, st, name, "node-microservice")
	}
	s.UseDora(bandsOf{
		"orders-service": {DeploymentFrequency: "elite", LeadTimeForChanges: "elite", ChangeFailureRate: "high", TimeToRestore: "medium"},
		"cart-service":   {DeploymentFrequency: "elite", LeadTimeForChanges: "high", ChangeFailureRate: "low"},
		"search-service": {DeploymentFrequency: "low"},
		// gone-service is no longer in the catalog: unmeasured everywhere.
	})
	resp, err := s.ListTemplateLedgers(t.Context(), &cairnv1.ListTemplateLedgersRequest{})
	require.NoError(t, err)
	require.Len(t, resp.GetLedgers(), 1)
	want := []*cairnv1.DoraBandSpread{
		{Metric: "deployment_frequency", Elite: 2, Low: 1, Unmeasured: 1},
		{Metric: "lead_time_for_changes", Elite: 1, High: 1, Unmeasured: 2},
		{Metric: "change_failure_rate", High: 1, Low: 1, Unmeasured: 2},
		{Metric: "time_to_restore", Medium: 1, Unmeasured: 3},
	}
	require.Len(t, resp.GetLedgers()[0].GetDoraBands(), len(want))
	for i, w := range want {
		require.True(t, proto.Equal(w, resp.GetLedgers()[0].GetDoraBands()[i]), "%v", resp.GetLedgers()[0].GetDoraBands()[i])
	}
}
