package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

func TestStatusText(t *testing.T) {
	deployed := timestamppb.New(time.Date(2026, 3, 4, 15, 4, 5, 0, time.FixedZone("CET", 3600)))
	s := &cairnv1.GetServiceStatusResponse{
		Service: "orders-service", Phase: "provisioning", Stale: true,
		ProvisioningDuration: durationpb.New(83*time.Second + 400*time.Millisecond),
		Deployments: []*cairnv1.DeploymentStatus{
			{Environment: "production", Cluster: "spoke-b", Stale: true, SyncStatus: "OutOfSync", HealthStatus: "Missing", AwaitingPromotion: true},
			{Environment: "staging", Cluster: "management", SyncStatus: "Synced", HealthStatus: "Healthy", Revision: "abc123", LastDeployTime: deployed},
		},
		Infrastructure: []*cairnv1.InfrastructureStatus{
			{Resource: "orders-service-bucket", Kind: "BucketClaim", Cluster: "management", Ready: true, Reason: "Available"},
			{Resource: "orders-service-production-db", Kind: "DatabaseClaim", Environment: "production", Cluster: "spoke-b", Stale: true,
				Reason: "Creating", Message: "waiting for\nthe RDS instance"},
		},
	}
	require.Equal(t, `service: orders-service  phase: provisioning  stale: YES (Cairn's watch on the cluster is broken; this may be out of date)  provisioning: 1m23s

ENVIRONMENT  CLUSTER          SYNC       HEALTH                        REVISION  LAST DEPLOY
production   spoke-b (stale)  OutOfSync  Missing (awaiting promotion)  -         -
staging      management       Synced     Healthy                       abc123    2026-03-04T14:04:05Z

RESOURCE                      KIND           ENVIRONMENT  CLUSTER          READY  REASON     MESSAGE
orders-service-bucket         BucketClaim    -            management       yes    Available  -
orders-service-production-db  DatabaseClaim  production   spoke-b (stale)  no     Creating   waiting for the RDS instance
`, statusText(s))
}

func TestEnvironmentsText(t *testing.T) {
	envs := []*cairnv1.Environment{
		{Name: "staging", Sync: "automatic", Revision: "main"},
		{Name: "production", Sync: "promotion", Revision: "release", Production: true,
			Promotion: &cairnv1.EnvironmentPromotion{From: "staging", Approval: true, RequireRunning: true}},
	}
	require.Equal(t, `NAME        SYNC       REVISION  PRODUCTION  PROMOTED FROM           APPROVAL
staging     automatic  main      no          -                       -
production  promotion  release   yes         staging (what it runs)  yes
`, environmentsText(envs))
}

func TestStatusTextOfAPendingServiceOnAStaleView(t *testing.T) {
	s := &cairnv1.GetServiceStatusResponse{Service: "orders-service", Phase: "pending", Stale: true}
	require.Equal(t, `service: orders-service  phase: pending  stale: YES (Cairn's watch on the cluster is broken; this may be out of date)  provisioning: -

no deployments yet

no infrastructure yet
`, statusText(s))
}

func TestCreateText(t *testing.T) {
	claim, err := structpb.NewStruct(map[string]any{"kind": "DatabaseClaim", "metadata": map[string]any{"name": "orders-db", "namespace": "team-orders"}})
	require.NoError(t, err)
	app, err := structpb.NewStruct(map[string]any{"kind": "Application", "metadata": map[string]any{"name": "orders-staging", "namespace": "argocd"}})
	require.NoError(t, err)
	r := &cairnv1.CreateServiceResponse{
		Service: "orders", Status: "validated", Repository: "https://git.example/orders.git",
		Resources: []string{"database:postgresql", "bucket"}, Environments: []string{"staging"},
		Objects: []*structpb.Struct{claim, app},
	}
	require.Equal(t, `service:       orders
status:        validated
resources:     database:postgresql, bucket
environments:  staging
repository:    https://git.example/orders.git

KIND           NAMESPACE    NAME
DatabaseClaim  team-orders  orders-db
Application    argocd       orders-staging
`, createText(r))
}

func TestPromotionsText(t *testing.T) {
	require.Equal(t, "no promotions\n", promotionsText(nil))
	require.Equal(t, `NAME                          ENVIRONMENT  REVISION           STATE     REQUESTER         DECIDER
services/orders/promotions/3  production   v1.2.3 (rollback)  pending   orders-developer  -
services/orders/promotions/2  production   v1.3.0             pending   orders-developer  -
services/orders/promotions/1  production   v1.2.3             approved  orders-developer  orders-approver
`, promotionsText([]*cairnv1.Promotion{
		{Name: "services/orders/promotions/3", Environment: "production", Revision: "v1.2.3", Rollback: true, State: "pending", Requester: "orders-developer"},
		{Name: "services/orders/promotions/2", Environment: "production", Revision: "v1.3.0", State: "pending", Requester: "orders-developer"},
		{Name: "services/orders/promotions/1", Environment: "production", Revision: "v1.2.3", State: "approved", Requester: "orders-developer", Decider: "orders-approver"},
	}))
}

func TestDuration(t *testing.T) {
	require.Equal(t, "-", duration(nil))
	require.Equal(t, "350ms", duration(durationpb.New(350*time.Millisecond)))
	require.Equal(t, "2h0m5s", duration(durationpb.New(2*time.Hour+5*time.Second+300*time.Millisecond)))
}

func TestPromotionsTextShowsTheEvidenceOfThoseThatHaveSome(t *testing.T) {
	budget := 5000.0
	require.Equal(t, `NAME                          ENVIRONMENT  REVISION  STATE     REQUESTER         DECIDER
services/orders/promotions/3  production   v1.4.0    pending   orders-developer  -
services/orders/promotions/2  staging      v1.4.0    approved  orders-developer  orders-developer
services/orders/promotions/1  production   v1.3.0    approved  orders-developer  orders-approver

EVIDENCE (team spend this month, projected to its end; change failure rate over 30 days)
NAME                          COST/MONTH  TEAM SPENT  PROJECTED       BUDGET   FAILURE RATE    OPEN INCIDENTS
services/orders/promotions/3  +6.72 USD   4900.00     7352.24 (over)  5000.00  25% of 8        INC-7 on v1.3.0
services/orders/promotions/2  +0.00 USD   unknown     unknown         none     no deployments  none
`, promotionsText([]*cairnv1.Promotion{
		{Name: "services/orders/promotions/3", Environment: "production", Revision: "v1.4.0", State: "pending", Requester: "orders-developer",
			Evidence: &cairnv1.PromotionEvidence{Currency: "USD", MonthlyCostChange: 6.721293, TeamSpent: 4900, TeamProjected: 7352.240431,
				TeamBudget: &budget, ProjectedOverBudget: true, ChangeFailureRate: 0.25, ChangeFailureDeployments: 8,
				RunningRevision: "v1.3.0", OpenIncidents: []string{"services/orders/incidents/INC-7"}}},
		{Name: "services/orders/promotions/2", Environment: "staging", Revision: "v1.4.0", State: "approved", Requester: "orders-developer", Decider: "orders-developer",
			Evidence: &cairnv1.PromotionEvidence{Currency: "USD", SpendUnknown: "too large"}},
		{Name: "services/orders/promotions/1", Environment: "production", Revision: "v1.3.0", State: "approved", Requester: "orders-developer", Decider: "orders-approver",
			EvidenceMissing: "recorded before Cairn kept evidence on promotions"},
	}))
}
