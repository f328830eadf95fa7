package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

func TestLedgersTextSaysHowFarEstimatesWereFromBilling(t *testing.T) {
	require.Equal(t, "no templates\n", ledgersText(&cairnv1.ListTemplateLedgersResponse{}))
	cost, under, factor := 132.814, -16.6666667, 1.2
	require.Equal(t, `template ledgers; costs of 2026-11 (USD)
TEMPLATE           SERVICES  TO FIRST DEPLOY  PROVISIONING P50  P95    MEDIAN MONTHLY COST
go-service         1         -                -                 -      -
node-microservice  3         3h0m0s (2)       20m0s (2)         30m0s  132.81 (2)

TEMPLATE           DORA METRIC            ELITE  HIGH  MEDIUM  LOW  UNMEASURED
node-microservice  deployment_frequency   2      0     0       1    0
node-microservice  lead_time_for_changes  1      1     0       0    1

node-microservice: database estimates are 17% under billed: factor 1.20 (2 service(s), 219.44 estimated, 263.33 billed)
node-microservice: storage: nothing billed to compare estimates with (1 service(s), 2.30 estimated, 0.00 billed)
`, ledgersText(&cairnv1.ListTemplateLedgersResponse{Month: "2026-11", Currency: "USD", Ledgers: []*cairnv1.TemplateLedger{
		{Template: "go-service", ServiceCount: 1},
		{Template: "node-microservice", ServiceCount: 3,
			MedianTimeToFirstDeploy: durationpb.New(3 * time.Hour), DeployedServiceCount: 2,
			ProvisioningP50: durationpb.New(20 * time.Minute), ProvisioningP95: durationpb.New(30 * time.Minute), ReadyServiceCount: 2,
			MedianMonthlyCost: &cost, BilledServiceCount: 2,
			EstimateErrors: []*cairnv1.EstimateError{
				{ResourceType: "database", EstimatedCost: 219.44, BilledCost: 263.328, ErrorPercent: &under, Factor: &factor, ServiceCount: 2},
				{ResourceType: "storage", EstimatedCost: 2.3, ServiceCount: 1},
			},
			DoraBands: []*cairnv1.DoraBandSpread{
				{Metric: "deployment_frequency", Elite: 2, Low: 1},
				{Metric: "lead_time_for_changes", Elite: 1, High: 1, Unmeasured: 1},
			}},
	}}))
}

func TestDailyAnomaliesTextShowsScoresAndFlatBaselines(t *testing.T) {
	score := 6.745
	require.Equal(t, `daily cost anomalies of 2026-12-07 (USD)
SERVICE         TEAM         COST   MEDIAN  MAD   SCORE          DAYS
noisy-service   team-orders  20.00  10.00   1.00  6.7            28
orders-service  team-orders  30.00  10.00   0.00  flat baseline  28
1 service(s) billed on the day have fewer than 14 days with billing before it: not scored
`, dailyAnomaliesText(&cairnv1.ListDailyCostAnomaliesResponse{
		Date: &date.Date{Year: 2026, Month: 12, Day: 7}, Currency: "USD", UnscoredServiceCount: 1,
		Anomalies: []*cairnv1.DailyCostAnomaly{
			{ServiceName: "noisy-service", Team: "team-orders", Cost: 20, BaselineMedian: 10, BaselineMad: 1, ModifiedZScore: &score, BaselineDayCount: 28},
			{ServiceName: "orders-service", Team: "team-orders", Cost: 30, BaselineMedian: 10, FlatBaseline: true, BaselineDayCount: 28},
		},
	}))
	require.Equal(t, "daily cost anomalies of 2026-12-07 (USD)\nno anomalies\n",
		dailyAnomaliesText(&cairnv1.ListDailyCostAnomaliesResponse{Date: &date.Date{Year: 2026, Month: 12, Day: 7}, Currency: "USD"}))
}
