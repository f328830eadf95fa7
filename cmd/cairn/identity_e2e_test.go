package main

// Identity from the attacker's side: Backstage user tokens forged with a
// local JWKS (authtest) against the real binary. A group of a namespace that
// makes no team gives no team, and a principal is one principal whatever
// the case of its name.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server"
	"github.com/cairn-dev/cairn/server/auth/authtest"
	"github.com/cairn-dev/cairn/store"
)

// backstageConfig is a config file with the admin token, trusting iss's
// user tokens, with group:default/release-approvers as approvers.
func backstageConfig(t *testing.T, iss *authtest.Issuer) string {
	t.Helper()
	return writeConfig(t, fmt.Sprintf(`  backstage:
    jwksUrl: %s
    issuer: %s
    audience: %s
    approvers: [group:default/release-approvers]
`, iss.JWKSURL, iss.URL, authtest.Audience))
}

// rawGRPC is a connection to p's gRPC port that sends no credentials of its
// own: each call carries the bearer token it is given.
func rawGRPC(t *testing.T, p *cairnProcess) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

func withBearer(t *testing.T, token string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// requireDenied requires err to be PERMISSION_DENIED with reason.
func requireDenied(t *testing.T, err error, reason string) {
	t.Helper()
	s, _ := status.FromError(err)
	require.Equal(t, codes.PermissionDenied, s.Code(), "%v", err)
	var reasons []string
	for _, d := range s.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reasons = append(reasons, info.GetReason())
		}
	}
	require.Equal(t, []string{reason}, reasons)
}

// requireRESTDenied requires a REST answer to be 403 with reason.
func requireRESTDenied(t *testing.T, r restResponse, reason string) {
	t.Helper()
	require.Equal(t, http.StatusForbidden, r.status, r.raw)
	details, _ := r.body["details"].([]any)
	require.NotEmpty(t, details, r.raw)
	require.Equal(t, reason, details[0].(map[string]any)["reason"], r.raw)
}

func TestAGroupOfAnotherNamespaceCannotChangeATeamsService(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			iss := authtest.NewIssuer(t)
			p := launchCairnWithConfig(t, engine.storeURL(t), backstageConfig(t, iss))
			p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
			for _, name := range []string{"svc-b1", "svc-b2"} {
				r := p.rest(t, "POST", "/v1/services:register", strings.NewReader(fmt.Sprintf(
					`{"service": {"name": "services/%s", "type": "service", "lifecycle": "production", "owner": "group:default/team-b"}}`, name)))
				require.Equal(t, http.StatusOK, r.status, r.raw)
				require.Equal(t, "team-b", r.body["team"])
			}
			// A user of the sandbox namespace, whose sandbox group has team-b's name.
			mallory := iss.Token(t, "user:sandbox/mallory", []string{"user:sandbox/mallory", "group:sandbox/team-b"}, time.Hour)

			requireRESTDenied(t, p.restAs(t, mallory, "DELETE", "/v1/services/svc-b1", nil), "NOT_TEAM_MEMBER")
			catalog := cairnv1.NewCatalogServiceClient(rawGRPC(t, p))
			_, err := catalog.DeleteService(withBearer(t, mallory), &cairnv1.DeleteServiceRequest{Name: "services/svc-b2"})
			requireDenied(t, err, "NOT_TEAM_MEMBER")
			_, err = catalog.RegisterService(withBearer(t, mallory), &cairnv1.RegisterServiceRequest{Source: &cairnv1.RegisterServiceRequest_Service{Service: &cairnv1.Service{
				Name: "services/svc-b1", Type: "service", Lifecycle: "production", Owner: "group:default/team-b", Description: "taken",
			}}})
			requireDenied(t, err, "NOT_TEAM_MEMBER")
			for _, name := range []string{"svc-b1", "svc-b2"} {
				r := p.rest(t, "GET", "/v1/services/"+name, nil)
				require.Equal(t, http.StatusOK, r.status, r.raw)
				require.Empty(t, r.body["description"], "team-b's service is unchanged")
			}

			// Not even an admin can make a team of another namespace's group.
			r := p.rest(t, "POST", "/v1/services:register", strings.NewReader(
				`{"service": {"name": "services/svc-s1", "type": "service", "lifecycle": "production", "owner": "group:sandbox/team-b"}}`))
			require.Equal(t, http.StatusBadRequest, r.status, r.raw)
			require.Equal(t, []string{"service.owner"}, fieldViolations(t, r))
			require.Contains(t, r.raw, `which makes no teams: only groups and users of namespace default do`)
			require.Equal(t, http.StatusNotFound, p.rest(t, "GET", "/v1/services/svc-s1", nil).status)

			// team-b's own member, named in another case, may.
			member := iss.Token(t, "user:default/Bea", []string{"Group:Default/Team-B"}, time.Hour)
			r = p.restAs(t, member, "DELETE", "/v1/services/svc-b1", nil)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			_, err = catalog.DeleteService(withBearer(t, member), &cairnv1.DeleteServiceRequest{Name: "services/svc-b2"})
			require.NoError(t, err)
		})
	}
}

// seedPromotionOfBefore stores, as Cairn stored it before principal names
// were canonical, team-b's service with a pending promotion requested by
// `user:default/Zed`.
func seedPromotionOfBefore(t *testing.T, storeURL, service string) {
	t.Helper()
	ctx := t.Context()
	st, err := server.OpenStore(ctx, storeURL)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))
	spec := store.ProvisioningSpec{
		Owner: "group:default/team-b", Team: "team-b", RepositoryURL: "https://github.com/company/" + service + ".git",
		Environments: []string{"staging", "production"},
	}
	_, _, err = st.CreateProvisioning(ctx, store.Provisioning{Service: service, Requester: "user:default/Zed", Spec: spec},
		&store.Service{Name: service, Type: "service", Lifecycle: "experimental", Owner: spec.Owner, Team: spec.Team, GoldenPath: true})
	require.NoError(t, err)
	_, _, err = st.CreatePromotion(ctx, store.Promotion{Service: service, Revision: "v0.9.0", State: "pending", Requester: "user:default/Zed"})
	require.NoError(t, err)
}

func TestPromotionsRefuseAnotherNamespacesGroupAndTheRequesterInAnotherCase(t *testing.T) {
	env := kubetest.Shared(t)
	env.CreateNamespace(t, "team-b")
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			service, legacy := "pay-"+engine.name, "old-"+engine.name
			removeAfterTest(t, env, service)
			removeAfterTest(t, env, legacy)
			storeURL := engine.storeURL(t)
			seedPromotionOfBefore(t, storeURL, legacy)
			iss := authtest.NewIssuer(t)
			p := launchCairnWithConfig(t, storeURL, backstageConfig(t, iss), "--kubeconfig", env.Kubeconfig(t))
			p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
			provisioning := cairnv1.NewProvisioningServiceClient(rawGRPC(t, p))

			upperZed := iss.Token(t, "user:default/Zed", []string{"group:default/team-b"}, time.Hour)
			r := p.restAs(t, upperZed, "POST", "/v1/services", strings.NewReader(fmt.Sprintf(`{
  "name": %q, "owner": "group:default/team-b", "environments": ["staging", "production"],
  "repositoryUrl": "https://github.com/company/%s.git"}`, service, service)))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			r = p.restAs(t, upperZed, "POST", "/v1/services/"+service+"/promotions", strings.NewReader(`{"promotion": {"revision": "v1.0.0"}}`))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			require.Equal(t, "user:default/zed", r.body["requester"], "names are stored canonically")
			promotion := r.body["name"].(string)
			old := p.rest(t, "GET", "/v1/services/"+legacy+"/promotions", nil)
			require.Equal(t, http.StatusOK, old.status, old.raw)
			oldPromotion := old.body["promotions"].([]any)[0].(map[string]any)
			require.Equal(t, "user:default/Zed", oldPromotion["requester"])

			// An approver whose team-b group is of the sandbox namespace.
			mallory := iss.Token(t, "user:default/mallory", []string{"group:sandbox/team-b", "group:default/release-approvers"}, time.Hour)
			r = p.restAs(t, mallory, "POST", "/v1/services/"+service+"/promotions", strings.NewReader(`{"promotion": {"revision": "evil"}}`))
			requireRESTDenied(t, r, "NOT_TEAM_MEMBER")
			requireRESTDenied(t, p.restAs(t, mallory, "POST", "/v1/"+promotion+":approve", strings.NewReader(`{}`)), "NOT_TEAM_MEMBER")
			_, err := provisioning.ApprovePromotion(withBearer(t, mallory), &cairnv1.ApprovePromotionRequest{Name: promotion})
			requireDenied(t, err, "NOT_TEAM_MEMBER")

			// The requester, named in another case, with the approver role.
			lowerZed := iss.Token(t, "user:default/zed", []string{"group:default/team-b", "group:default/release-approvers"}, time.Hour)
			for _, name := range []string{promotion, oldPromotion["name"].(string)} {
				r = p.restAs(t, lowerZed, "POST", "/v1/"+name+":approve", strings.NewReader(`{}`))
				requireRESTDenied(t, r, "OWN_REQUEST")
				require.Contains(t, r.body["message"], "other than its requester")
				_, err = provisioning.ApprovePromotion(withBearer(t, lowerZed), &cairnv1.ApprovePromotionRequest{Name: name})
				requireDenied(t, err, "OWN_REQUEST")
				_, err = provisioning.DenyPromotion(withBearer(t, lowerZed), &cairnv1.DenyPromotionRequest{Name: name})
				requireDenied(t, err, "OWN_REQUEST")
			}

			// Another approver of team-b decides both.
			ann := iss.Token(t, "user:default/ann", []string{"group:default/team-b", "group:default/release-approvers"}, time.Hour)
			approved, err := provisioning.ApprovePromotion(withBearer(t, ann), &cairnv1.ApprovePromotionRequest{Name: promotion})
			require.NoError(t, err)
			require.Equal(t, "approved", approved.GetPromotion().GetState())
			require.Equal(t, "user:default/ann", approved.GetPromotion().GetDecider())
			r = p.restAs(t, ann, "POST", "/v1/"+oldPromotion["name"].(string)+":deny", strings.NewReader(`{}`))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			require.Equal(t, "denied", r.body["state"])
		})
	}
}
