package cost

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// workloadsOf serves fixed Deployments in place of the cluster's informer
// cache, which server/kube tests on a real API server.
type workloadsOf map[string][]kube.Workload

func (w workloadsOf) Workloads(service string) []kube.Workload { return w[service] }

func TestWorkloadMonthlyPriceIsRequestsTimesReplicasTimesHours(t *testing.T) {
	prices := DefaultConfig().Prices.Workload
	for _, tc := range []struct {
		name        string
		replicas    int32
		cpuMillis   int64
		memoryBytes int64
		want        money.Sum
	}{
		// 0.1 x 0.04048 + 0.125 x 0.004445 = 0.004603625 an hour; x 730 x 2.
		{"the template's Deployment", 2, 100, 128 << 20, money.Of(6_721_293)},
		{"one vCPU alone", 1, 1000, 0, money.Of(29_550_400)},
		{"one GiB alone", 1, 0, 1 << 30, money.Of(3_244_850)},
		{"nothing requested", 3, 0, 0, money.Of(0)},
		{"no replicas", 0, 4000, 8 << 30, money.Of(0)},
		// Products past int64 before the division: 1,000 replicas of 1 TiB.
		{"very large", 1000, 0, 1 << 40, money.Of(3_322_726_400_000)},
		// And after it: the most replicas, each of the most CPU, is
		// 2^31-1 x (2^63-1)/1000 x 29.5504 units, past int64, exactly.
		{"past int64", math.MaxInt32, math.MaxInt64, 0, money.FromBig(bigOf("585305973117824887304732919703202"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, prices.monthly(tc.replicas, tc.cpuMillis, tc.memoryBytes))
		})
	}
}

func TestPlannedWorkloadValidation(t *testing.T) {
	cfg := DefaultConfig()
	require.NoError(t, cfg.Validate())
	cfg.PlannedWorkload = PlannedWorkload{CPU: "lots", Memory: "-1Gi", Replicas: -1}
	err := cfg.Validate()
	require.ErrorContains(t, err, `plannedWorkload.cpu "lots": want a Kubernetes quantity`)
	require.ErrorContains(t, err, `plannedWorkload.memory "-1Gi": must not be negative`)
	require.ErrorContains(t, err, "plannedWorkload.replicas -1: must not be negative")
	cfg = DefaultConfig()
	cfg.Prices.Workload = WorkloadPrices{VCPUHour: -1, GBHour: -1}
	require.ErrorContains(t, cfg.Validate(), "workload.vcpuHour -0.000001: must not be negative")
	require.ErrorContains(t, cfg.Validate(), "workload.gbHour -0.000001: must not be negative")
}

func TestGetServiceCostPricesTheServicesDeployments(t *testing.T) {
	_, st := newTestServer(t)
	_, _, err := st.UpsertService(t.Context(), &store.Service{Name: "legacy", Type: "service", Lifecycle: "production",
		Owner: "group:default/team-a", Team: "team-a"}, "")
	require.NoError(t, err)
	long := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	s := NewServer(st, DefaultConfig(), workloadsOf{"legacy": {
		// 3 x (0.3 x 0.04048 + 0.5625 x 0.004445) x 730 = 32.071044375.
		{Namespace: "team-a", Name: "legacy", Replicas: 3, CPUMillis: 300, MemoryBytes: 576 << 20, CreateTime: long},
		// Made during March: charged in March, not in February.
		{Namespace: "team-a", Name: "legacy-worker", Replicas: 1, CPUMillis: 1000, MemoryBytes: 1 << 30, CreateTime: recent},
	}}, entityref.Teams{}, manifest.DefaultSettings())

	resp, err := s.GetServiceCost(t.Context(), &cairnv1.GetServiceCostRequest{Name: "services/legacy", Month: "2026-03"})
	require.NoError(t, err)
	require.Equal(t, []*cairnv1.CostBreakdown{
		{Resource: "team-a/legacy", Type: "compute", MonthlyCost: 32.071044, Trend: "stable", Source: "estimated"},
		{Resource: "team-a/legacy-worker", Type: "compute", MonthlyCost: 32.79525, Trend: "up", Source: "estimated"},
	}, resp.GetBreakdown())
	require.Equal(t, 64.866294, resp.GetTotalMonthlyCost())
	require.Equal(t, 32.071044, resp.GetPreviousMonthlyCost())
}

func TestGetServiceCostAddsDeploymentsToTheProvisioningsEstimate(t *testing.T) {
	_, st := newTestServer(t)
	prov := provision(t, st, "orders-service")
	s := NewServer(st, DefaultConfig(), workloadsOf{"orders-service": {
		{Namespace: "team-orders", Name: "orders-service", Replicas: 2, CPUMillis: 100, MemoryBytes: 128 << 20, CreateTime: prov.CreateTime},
	}}, entityref.Teams{}, manifest.DefaultSettings())
	resp, err := s.GetServiceCost(t.Context(), &cairnv1.GetServiceCostRequest{Name: "services/orders-service"})
	require.NoError(t, err)
	require.Len(t, resp.GetBreakdown(), 3)
	require.Equal(t, "team-orders/orders-service", resp.GetBreakdown()[2].GetResource())
	require.Equal(t, 118.741293, resp.GetTotalMonthlyCost())
	require.Zero(t, resp.GetPreviousMonthlyCost())
}
