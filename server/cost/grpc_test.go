package cost

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

func newTestServer(t *testing.T) (*Server, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(t.Context()))
	return NewServer(st, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings()), st
}

// provision records a provisioning of a small PostgreSQL and a bucket, with
// its catalog entry, as CreateService would; the store stamps it now.
func provision(t *testing.T, st store.Store, name string) store.Provisioning {
	t.Helper()
	spec := store.ProvisioningSpec{Owner: "group:default/team-orders", Team: "team-orders",
		Database: "postgresql", DatabaseSize: "small", Bucket: true}
	prov, created, err := st.CreateProvisioning(t.Context(), store.Provisioning{Service: name, Spec: spec},
		&store.Service{Name: name, Type: "service", Lifecycle: "experimental", Owner: spec.Owner, Team: spec.Team})
	require.NoError(t, err)
	require.True(t, created)
	return prov
}

func codeOf(err error) codes.Code {
	rewritten, _ := apierr.Rewrite(err, "/cairn.v1.CostService/Test")
	return status.Code(rewritten)
}

func TestEstimateServiceCostPricesAPlannedCreateWithoutAStoreOrCluster(t *testing.T) {
	s := NewServer(nil, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings()) // a store call would panic
	resp, err := s.EstimateServiceCost(t.Context(), &cairnv1.EstimateServiceCostRequest{Request: &cairnv1.CreateServiceRequest{
		Name: "orders-service", Owner: "group:default/team-orders", Database: "postgresql", DatabaseSize: "small",
		Bucket: true, Environments: []string{"staging"}, RepositoryUrl: "https://github.com/company/orders-service.git",
	}})
	require.NoError(t, err)
	require.Equal(t, "orders-service", resp.GetServiceName())
	require.Equal(t, "USD", resp.GetCurrency())
	// By hand, from the default table: 2 db.t3.medium (Multi-AZ) at 0.072 an
	// hour for 730 hours plus 2 x 20 GB at 0.115; 100 GB of S3 at 0.023; and
	// in staging the template's 2 replicas of 0.1 vCPU at 0.04048 and
	// 0.125 GiB at 0.004445 an hour, 6.7212925 rounded to the micro.
	require.Equal(t, []*cairnv1.CostBreakdown{
		{Resource: "orders-service-db", Type: "database", MonthlyCost: 109.72, Trend: "stable", Source: "estimated"},
		{Resource: "orders-service-bucket", Type: "storage", MonthlyCost: 2.3, Trend: "stable", Source: "estimated"},
		{Resource: "orders-service (staging)", Type: "compute", MonthlyCost: 6.721293, Trend: "stable", Source: "estimated"},
	}, resp.GetBreakdown())
	require.Equal(t, 118.741293, resp.GetTotalMonthlyCost())
}

func TestEstimateServiceCostRunsTheRequestedReplicasInProduction(t *testing.T) {
	resp, err := NewServer(nil, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings()).EstimateServiceCost(t.Context(), &cairnv1.EstimateServiceCostRequest{
		Request: &cairnv1.CreateServiceRequest{Name: "tiny", Owner: "team-a", Database: "none", ReplicaCount: 5,
			Environments: []string{"staging", "production"}, RepositoryUrl: "https://github.com/company/tiny.git"},
	})
	require.NoError(t, err)
	// 5 x 0.004603625 an hour x 730 = 16.80323125 in production.
	require.Equal(t, []*cairnv1.CostBreakdown{
		{Resource: "tiny (staging)", Type: "compute", MonthlyCost: 6.721293, Trend: "stable", Source: "estimated"},
		{Resource: "tiny (production)", Type: "compute", MonthlyCost: 16.803231, Trend: "stable", Source: "estimated"},
	}, resp.GetBreakdown())
	require.Equal(t, 23.524524, resp.GetTotalMonthlyCost())
}

func TestEstimateServiceCostOfNoResourcesAndNoPlannedWorkloadIsZero(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PlannedWorkload.Replicas = 0
	resp, err := NewServer(nil, cfg, nil, entityref.Teams{}, manifest.DefaultSettings()).EstimateServiceCost(t.Context(), &cairnv1.EstimateServiceCostRequest{
		Request: &cairnv1.CreateServiceRequest{Name: "tiny", Owner: "team-a", Database: "none", RepositoryUrl: "https://github.com/company/tiny.git"},
	})
	require.NoError(t, err)
	require.Zero(t, resp.GetTotalMonthlyCost())
	require.Len(t, resp.GetBreakdown(), 1)
	require.Zero(t, resp.GetBreakdown()[0].GetMonthlyCost())
}

func TestEstimateServiceCostRefusesWhatCreateServiceWouldRefuse(t *testing.T) {
	s := NewServer(nil, DefaultConfig(), nil, entityref.Teams{}, manifest.DefaultSettings())
	for _, tc := range []struct {
		name  string
		req   *cairnv1.CreateServiceRequest
		field string
	}{
		{"no request", nil, "request"},
		{"unknown engine", &cairnv1.CreateServiceRequest{Name: "svc", Owner: "team-a", Database: "oracle"}, "request"},
		{"unknown size", &cairnv1.CreateServiceRequest{Name: "svc", Owner: "team-a", Database: "mysql", DatabaseSize: "huge"}, "request"},
		{"name that is no service name", &cairnv1.CreateServiceRequest{Name: "Orders_Service", Owner: "team-a"}, "request"},
		{"owner that is no team", &cairnv1.CreateServiceRequest{Name: "svc", Owner: "component:default/orders"}, "request.owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.EstimateServiceCost(t.Context(), &cairnv1.EstimateServiceCostRequest{Request: tc.req})
			require.Equal(t, codes.InvalidArgument, codeOf(err))
			var apiErr *apierr.Error
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tc.field, apiErr.Violations[0].Field)
		})
	}
}

func TestGetServiceCostOfAServiceProvisionedBeforeTheMonthIsStable(t *testing.T) {
	s, st := newTestServer(t)
	prov := provision(t, st, "orders-service")
	// The month after the provisioning: it existed all of the month before.
	month := prov.CreateTime.UTC().AddDate(0, 1, 1-prov.CreateTime.UTC().Day()).Format("2006-01")
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return now }

	resp, err := s.GetServiceCost(t.Context(), &cairnv1.GetServiceCostRequest{Name: "services/orders-service", Month: month})
	require.NoError(t, err)
	require.Equal(t, "orders-service", resp.GetServiceName())
	require.Equal(t, month, resp.GetMonth())
	require.Equal(t, "USD", resp.GetCurrency())
	require.Equal(t, 112.02, resp.GetTotalMonthlyCost())
	require.Equal(t, 112.02, resp.GetPreviousMonthlyCost())
	require.Equal(t, now, resp.GetLastUpdated().AsTime())
	require.Len(t, resp.GetBreakdown(), 2)
	for _, line := range resp.GetBreakdown() {
		require.Equal(t, "stable", line.GetTrend(), line.GetResource())
		require.Equal(t, "estimated", line.GetSource())
	}
}

func TestGetServiceCostOfAServiceProvisionedDuringTheMonthGoesUp(t *testing.T) {
	s, st := newTestServer(t)
	provision(t, st, "orders-service")

	// No month: the current one (UTC), in which the store stamped it.
	resp, err := s.GetServiceCost(t.Context(), &cairnv1.GetServiceCostRequest{Name: "services/orders-service"})
	require.NoError(t, err)
	require.Equal(t, time.Now().UTC().Format("2006-01"), resp.GetMonth())
	require.Equal(t, 112.02, resp.GetTotalMonthlyCost())
	require.Zero(t, resp.GetPreviousMonthlyCost())
	require.Equal(t, []*cairnv1.CostBreakdown{
		{Resource: "orders-service-db", Type: "database", MonthlyCost: 109.72, Trend: "up", Source: "estimated"},
		{Resource: "orders-service-bucket", Type: "storage", MonthlyCost: 2.3, Trend: "up", Source: "estimated"},
	}, resp.GetBreakdown())
}

func TestGetServiceCostOfAMonthBeforeTheProvisioningIsZero(t *testing.T) {
	s, st := newTestServer(t)
	provision(t, st, "orders-service")
	resp, err := s.GetServiceCost(t.Context(), &cairnv1.GetServiceCostRequest{Name: "services/orders-service", Month: "2001-01"})
	require.NoError(t, err)
	require.Zero(t, resp.GetTotalMonthlyCost())
	require.Zero(t, resp.GetPreviousMonthlyCost())
	require.Empty(t, resp.GetBreakdown())
}

func TestGetServiceCostOfAnUnknownServiceIsNotFound(t *testing.T) {
	s, _ := newTestServer(t)
	_, err := s.GetServiceCost(t.Context(), &cairnv1.GetServiceCostRequest{Name: "services/nobody"})
	require.Equal(t, codes.NotFound, codeOf(err))
	require.ErrorContains(t, err, `service "nobody" not found`)
}

func TestGetServiceCostOfAServiceWithoutProvisioningIsZero(t *testing.T) {
	s, st := newTestServer(t)
	_, _, err := st.UpsertService(t.Context(), &store.Service{Name: "legacy", Type: "service", Lifecycle: "production",
		Owner: "group:default/team-a", Team: "team-a"}, "")
	require.NoError(t, err)

	resp, err := s.GetServiceCost(t.Context(), &cairnv1.GetServiceCostRequest{Name: "services/legacy", Month: "2026-03"})
	require.NoError(t, err)
	require.Equal(t, "legacy", resp.GetServiceName())
	require.Equal(t, "2026-03", resp.GetMonth())
	require.Equal(t, "USD", resp.GetCurrency())
	require.Zero(t, resp.GetTotalMonthlyCost())
	require.Zero(t, resp.GetPreviousMonthlyCost())
	require.NotNil(t, resp.GetBreakdown())
	require.Empty(t, resp.GetBreakdown())
	require.NotNil(t, resp.GetLastUpdated())
}
