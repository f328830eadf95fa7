package chatops

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/testenv/slacktest"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/auth/authtest"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// fakeCairn stands in for Cairn's API: it records each call with the
// principal it was made as, and answers what the test sets.
type fakeCairn struct {
	cairnv1.ProvisioningServiceClient // nil: a call the test did not expect panics

	mu    sync.Mutex
	calls []string // method principal

	created  *cairnv1.CreateServiceResponse
	promoted *cairnv1.Promotion
	decided  *cairnv1.Promotion
	err      error
	delay    time.Duration
}

type principalKey struct{}

func (f *fakeCairn) record(ctx context.Context, method string) error {
	p, _ := ctx.Value(principalKey{}).(*auth.Principal)
	f.mu.Lock()
	f.calls = append(f.calls, method+" "+p.Name)
	f.mu.Unlock()
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return f.err
}

func (f *fakeCairn) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeCairn) CreateService(ctx context.Context, in *cairnv1.CreateServiceRequest, _ ...grpc.CallOption) (*cairnv1.CreateServiceResponse, error) {
	if err := f.record(ctx, "CreateService"); err != nil {
		return nil, err
	}
	return f.created, nil
}

func (f *fakeCairn) CreatePromotion(ctx context.Context, in *cairnv1.CreatePromotionRequest, _ ...grpc.CallOption) (*cairnv1.CreatePromotionResponse, error) {
	if err := f.record(ctx, "CreatePromotion"); err != nil {
		return nil, err
	}
	return &cairnv1.CreatePromotionResponse{Promotion: f.promoted}, nil
}

func (f *fakeCairn) ApprovePromotion(ctx context.Context, in *cairnv1.ApprovePromotionRequest, _ ...grpc.CallOption) (*cairnv1.ApprovePromotionResponse, error) {
	if err := f.record(ctx, "ApprovePromotion "+in.GetName()); err != nil {
		return nil, err
	}
	return &cairnv1.ApprovePromotionResponse{Promotion: f.decided}, nil
}

// slackTest is a handler over fakeCairn, with Jane (developer of
// team-orders) and Lee (an approver there) mapped, and a stand-in for
// Slack's response URLs.
type slackTest struct {
	handler   *Handler
	cairn     *fakeCairn
	server    *httptest.Server
	responses *slacktest.Receiver
	registry  *prometheus.Registry
	now       time.Time
	clicks    atomic.Int64 // makes each click's payload its own, as Slack's are
}

// counted is cairn_slack_requests_total of an endpoint and outcome.
func (st *slackTest) counted(endpoint, outcome string) float64 {
	return testutil.ToFloat64(st.handler.requests.WithLabelValues(endpoint, outcome))
}

func newSlackTest(t *testing.T, configure func(*Config)) *slackTest {
	t.Helper()
	st := &slackTest{cairn: &fakeCairn{}, responses: slacktest.NewReceiver(t), now: time.Now()}

	secretFile := filepath.Join(t.TempDir(), "signing-secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600))
	cfg := Config{
		SigningSecretFile: secretFile, ResponseURLPrefix: st.responses.URL + "/",
		RepositoryURLPattern: "https://github.com/company/{name}.git", BackstageURL: "https://backstage.example.com",
		Users: []User{
			{SlackUser: "UJANE1", User: "user:default/jane", Groups: []string{"group:default/team-orders"}},
			{SlackUser: "ULEE22", User: "user:default/lee", Groups: []string{"group:default/team-orders", "group:default/orders-leads"}},
		},
	}
	if configure != nil {
		configure(&cfg)
	}
	require.NoError(t, cfg.Validate())
	issuer := authtest.NewIssuer(t)
	authCfg := auth.Config{Mode: auth.ModeRequired, Backstage: issuer.Config(authtest.Audience)}
	authCfg.Backstage.Approvers = []string{"group:default/orders-leads"}
	users, err := auth.NewAuthenticator(t.Context(), authCfg, http.DefaultClient)
	require.NoError(t, err)
	api := API{Provisioning: st.cairn, As: func(ctx context.Context, p *auth.Principal) context.Context {
		return context.WithValue(ctx, principalKey{}, p)
	}}
	st.registry = prometheus.NewRegistry()
	st.handler, err = New(cfg, users, api, 5*time.Second, slog.New(slog.DiscardHandler), st.registry)
	require.NoError(t, err)
	st.handler.now = func() time.Time { return st.now }
	st.server = httptest.NewServer(st.handler)
	t.Cleanup(st.server.Close)
	t.Cleanup(st.handler.Close)
	return st
}

func (st *slackTest) send(t *testing.T, path, body string, header http.Header) slackResponse {
	t.Helper()
	return slacktest.Send(t, st.server.URL+path, body, header)
}

type slackResponse = slacktest.Response

// command sends /platform text as Slack would, signed, from a Slack user.
func (st *slackTest) command(t *testing.T, user, text string) slackResponse {
	t.Helper()
	body := st.commandBody(user, text)
	return st.send(t, "/slack/commands", body, slacktest.Sign(testSecret, time.Now(), body))
}

func (st *slackTest) commandBody(user, text string) string {
	return url.Values{
		"command": {"/platform"}, "text": {text}, "user_id": {user}, "team_id": {"T0001"},
		"channel_id": {"C0ORDERS"}, "trigger_id": {"13345224609.738474920." + user + strconv.Itoa(len(text))},
		"response_url": {st.server.URL + "/never"}, // replaced where a test reads the response URL
	}.Encode()
}

// click sends a block action on one of Cairn's buttons, signed.
func (st *slackTest) click(t *testing.T, user, actionID, value string) slackResponse {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "trigger_id": strconv.FormatInt(st.clicks.Add(1), 10), "response_url": strings.TrimSuffix(st.handler.cfg.ResponseURLPrefix, "/") + "/actions/1",
		"actions": []any{map[string]any{"block_id": "cairn_promotion", "action_id": actionID, "value": value, "type": "button"}},
	})
	require.NoError(t, err)
	body := url.Values{"payload": {string(payload)}}.Encode()
	return st.send(t, "/slack/interactivity", body, slacktest.Sign(testSecret, time.Now(), body))
}

func TestARequestSlackDidNotSignChangesNothing(t *testing.T) {
	st := newSlackTest(t, nil)
	body := st.commandBody("UJANE1", "promote orders-service --revision v1.2.0")
	old := slacktest.Sign(testSecret, time.Now().Add(-6*time.Minute), body)
	for name, header := range map[string]http.Header{
		"Unsigned":                {"Content-Type": {"application/x-www-form-urlencoded"}},
		"SignedWithAnotherSecret": slacktest.Sign("not-the-secret", time.Now(), body),
		"SignedOverAnotherBody":   slacktest.Sign(testSecret, time.Now(), body+"&user_id=ULEE22"),
		"StampedOutsideTheWindow": old,
	} {
		t.Run(name, func(t *testing.T) {
			r := st.send(t, "/slack/commands", body, header)
			require.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
		})
	}
	t.Run("Replayed", func(t *testing.T) {
		signed := slacktest.Sign(testSecret, time.Now(), body)
		st.cairn.promoted = &cairnv1.Promotion{Name: "services/orders-service/promotions/1", State: "pending"}
		require.Equal(t, http.StatusOK, st.send(t, "/slack/commands", body, signed).Status)
		r := st.send(t, "/slack/commands", body, signed)
		require.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
		require.Contains(t, r.Raw, "sent before")
	})
	require.Equal(t, []string{"CreatePromotion user:default/jane"}, st.cairn.recorded(), "only the first signed request reached Cairn")

	large := strings.Repeat("x", MaxBodyBytes+1)
	require.Equal(t, http.StatusRequestEntityTooLarge, st.send(t, "/slack/commands", large, slacktest.Sign(testSecret, time.Now(), large)).Status)
	require.Equal(t, 4.0, st.counted(endpointCommands, outcomeUnsigned))
	require.Equal(t, 1.0, st.counted(endpointCommands, outcomeReplayed))
	require.Equal(t, 1.0, st.counted(endpointCommands, outcomeTooLarge))
	require.Equal(t, 1.0, st.counted(endpointCommands, outcomeAccepted))
	problems, err := testutil.GatherAndLint(st.registry)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestAnUnmappedSlackUserIsToldSoAndNothingChanges(t *testing.T) {
	st := newSlackTest(t, nil)
	r := st.command(t, "UNKNOWN9", "create-service orders-service --team team-orders --template go-service")
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "ephemeral", r.Body["response_type"])
	require.Contains(t, slacktest.Text(r.Body), "Your Slack user (UNKNOWN9) is not linked to a Cairn user, so Cairn did nothing")

	r = st.click(t, "UNKNOWN9", actionApprove, "services/orders-service/promotions/1")
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, slacktest.Text(st.responses.Next(t)), "is not linked to a Cairn user")
	require.Empty(t, st.cairn.recorded())
	require.Equal(t, 1.0, st.counted(endpointCommands, outcomeUnmapped))
	require.Equal(t, 1.0, st.counted(endpointInteractivity, outcomeUnmapped))
}

func TestCreateServiceActsAsTheSlackUsersBackstageUser(t *testing.T) {
	st := newSlackTest(t, nil)
	st.cairn.created = &cairnv1.CreateServiceResponse{Service: "orders-service", Status: "provisioning",
		Environments: []string{"staging"}, Resources: []string{"database:postgresql"}, Repository: "https://github.com/company/orders-service.git"}
	r := st.command(t, "UJANE1", "create-service orders-service --team team-orders --template node-service --db postgresql")
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	require.Equal(t, "Service *orders-service* is provisioning.\nEnvironments: staging\nResources: database:postgresql\nRepository: https://github.com/company/orders-service.git",
		slacktest.Text(r.Body))
	buttons := r.Body["blocks"].([]any)[1].(map[string]any)["elements"].([]any)
	require.Equal(t, actionStatus, buttons[0].(map[string]any)["action_id"])
	require.Equal(t, "https://backstage.example.com/catalog/default/component/orders-service", buttons[1].(map[string]any)["url"])
	require.Equal(t, []string{"CreateService user:default/jane"}, st.cairn.recorded())

	r = st.command(t, "UJANE1", "create-service orders-service --db postgresql")
	require.Contains(t, slacktest.Text(r.Body), "Missing --team, --template.")
}

func TestAReplyThatOutlastsSlacksWaitIsAcknowledgedThenPosted(t *testing.T) {
	st := newSlackTest(t, func(c *Config) { c.AckAfter = 50 * time.Millisecond })
	st.cairn.delay = 300 * time.Millisecond
	st.cairn.promoted = &cairnv1.Promotion{Name: "services/orders-service/promotions/7", Revision: "v1.4.0", Environment: "production",
		State: "pending", Requester: "user:default/jane"}
	body := url.Values{
		"command": {"/platform"}, "text": {"promote orders-service --revision v1.4.0"}, "user_id": {"UJANE1"},
		"trigger_id": {"1.2.late"}, "response_url": {st.handler.cfg.ResponseURLPrefix + "commands/1"},
	}.Encode()
	r := st.send(t, "/slack/commands", body, slacktest.Sign(testSecret, time.Now(), body))
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, slacktest.Text(r.Body), "Working on it")

	posted := st.responses.Next(t)
	require.Equal(t, "/commands/1", posted["path"])
	require.Equal(t, "in_channel", posted["response_type"], "the channel sees the request, for an approver to press")
	require.Equal(t, "*Promotion of orders-service*: `v1.4.0` into *production*\nRequested by user:default/jane\n"+
		"An approver of the team, other than the requester, decides.", slacktest.Text(posted))
	require.Equal(t, []string{actionApprove + "=services/orders-service/promotions/7", actionDeny + "=services/orders-service/promotions/7"},
		slacktest.Buttons(t, posted))
}

func TestAClickDecidesAsTheClickerAndARefusalIsTheirsAlone(t *testing.T) {
	st := newSlackTest(t, nil)
	st.cairn.err, _ = apierr.Rewrite(apierr.PermissionDenied("OWN_REQUEST", "a promotion is decided by someone other than its requester"),
		cairnv1.ProvisioningService_ApprovePromotion_FullMethodName)
	require.Equal(t, http.StatusOK, st.click(t, "UJANE1", actionApprove, "services/orders-service/promotions/7").Status)
	refusal := st.responses.Next(t)
	require.Equal(t, "ephemeral", refusal["response_type"])
	require.Equal(t, false, refusal["replace_original"], "the request stays for an approver")
	require.Equal(t, "Cairn refused to approve services/orders-service/promotions/7: a promotion is decided by someone other than its requester (OWN_REQUEST)",
		slacktest.Text(refusal))

	st.cairn.err = nil
	st.cairn.decided = &cairnv1.Promotion{Name: "services/orders-service/promotions/7", Revision: "v1.4.0", Environment: "production",
		State: "approved", Requester: "user:default/jane", Decider: "user:default/lee"}
	require.Equal(t, http.StatusOK, st.click(t, "ULEE22", actionApprove, "services/orders-service/promotions/7").Status)
	approved := st.responses.Next(t)
	require.Equal(t, true, approved["replace_original"])
	require.Contains(t, slacktest.Text(approved), "*Approved* by user:default/lee: syncing production.")
	require.Equal(t, []string{
		"ApprovePromotion services/orders-service/promotions/7 user:default/jane",
		"ApprovePromotion services/orders-service/promotions/7 user:default/lee",
	}, st.cairn.recorded())
}

func TestWhatCallersWroteCannotMentionOrLinkInSlack(t *testing.T) {
	msg := pendingMessage(&cairnv1.Promotion{Name: "services/orders/promotions/1", Revision: "<!channel> <https://evil.example|click>",
		Environment: "production", Requester: "user:default/jane"})
	require.Contains(t, msg.Blocks.BlockSet[0].(*slack.SectionBlock).Text.Text, "&lt;!channel&gt; &lt;https://evil.example|click&gt;")
}

func TestAResponseURLOutsideSlacksIsNeverPosted(t *testing.T) {
	st := newSlackTest(t, func(c *Config) { c.AckAfter = time.Millisecond })
	st.cairn.delay = 100 * time.Millisecond
	st.cairn.promoted = &cairnv1.Promotion{Name: "services/orders-service/promotions/2", State: "pending"}
	body := url.Values{"text": {"promote orders-service --revision v1"}, "user_id": {"UJANE1"}, "trigger_id": {"x"},
		"response_url": {"http://169.254.169.254/latest/meta-data"}}.Encode()
	require.Equal(t, http.StatusOK, st.send(t, "/slack/commands", body, slacktest.Sign(testSecret, time.Now(), body)).Status)
	st.handler.Close()
	require.Zero(t, st.responses.Pending())
}

func TestParseCommand(t *testing.T) {
	c, err := parseCommand("create-service --name orders-service --team orders --template node-service --db postgresql --bucket --env staging --env production")
	require.NoError(t, err)
	require.Equal(t, "create-service", c.action)
	require.Equal(t, "orders-service", c.name())
	require.Equal(t, []string{"staging", "production"}, c.options["env"])
	require.Equal(t, "true", c.option("bucket"))

	c, err = parseCommand("promote orders-service --revision=v1.2.0")
	require.NoError(t, err)
	require.Equal(t, "orders-service", c.name())
	require.Equal(t, "v1.2.0", c.option("revision"))

	for _, bad := range []string{"promote x --revision", "status x --colour red", strings.Repeat("w ", maxWords+1)} {
		_, err := parseCommand(bad)
		require.Error(t, err, bad)
	}
}

// catalogStandIn answers the catalog's entity queries with one user, Kim,
// annotated with Slack member UKIM77; down makes it answer 503.
type catalogStandIn struct {
	mu      sync.Mutex
	queries []string
	auth    []string
	down    bool
}

func (c *catalogStandIn) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		require.Equal(t, "/api/catalog/entities", r.URL.Path)
		c.queries = append(c.queries, r.URL.Query().Get("filter"))
		c.auth = append(c.auth, r.Header.Get("Authorization"))
		if c.down {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		entities := []any{}
		if r.URL.Query().Get("filter") == "kind=user,metadata.annotations.slack.com/user_id=UKIM77" {
			entities = append(entities, map[string]any{
				"kind": "User", "metadata": map[string]any{"name": "kim", "namespace": "default"},
				"relations": []any{
					map[string]any{"type": "memberOf", "targetRef": "group:default/team-orders"},
					map[string]any{"type": "memberOf", "targetRef": "group:default/orders-leads"},
				},
			})
		}
		json.NewEncoder(w).Encode(entities)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestASlackUserTheTableDoesNotListIsLookedUpInTheCatalog(t *testing.T) {
	catalog := &catalogStandIn{}
	srv := catalog.serve(t)
	st := newSlackTest(t, func(c *Config) {
		c.Catalog = CatalogConfig{URL: srv.URL, TokenFile: secretFile(t, "catalog-token", "cairn-catalog-token")}
	})
	st.cairn.decided = &cairnv1.Promotion{Name: "services/orders-service/promotions/7", State: "approved", Decider: "user:default/kim"}

	for range 2 {
		require.Equal(t, http.StatusOK, st.click(t, "UKIM77", actionApprove, "services/orders-service/promotions/7").Status)
		require.Contains(t, slacktest.Text(st.responses.Next(t)), "*Approved* by user:default/kim")
	}
	require.Equal(t, []string{
		"ApprovePromotion services/orders-service/promotions/7 user:default/kim",
		"ApprovePromotion services/orders-service/promotions/7 user:default/kim",
	}, st.cairn.recorded(), "Kim acts as the catalog's user, an approver by her group")
	require.Equal(t, []string{"kind=user,metadata.annotations.slack.com/user_id=UKIM77"}, catalog.queries, "looked up once, then remembered")
	require.Equal(t, "Bearer cairn-catalog-token", catalog.auth[0])

	r := st.command(t, "UNOBODY1", "status orders-service")
	require.Contains(t, slacktest.Text(r.Body), "is not linked to a Cairn user")
	require.Len(t, catalog.queries, 2, "the table's users are not looked up; others are")

	catalog.down = true
	r = st.command(t, "UOTHER2", "status orders-service")
	require.Contains(t, slacktest.Text(r.Body), "Cairn cannot look you up in the Backstage catalog now, so it did nothing")
}

func secretFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestThePendingPromotionsMessageShowsTheApproverTheEvidence(t *testing.T) {
	budget := 5000.0
	msg := pendingMessage(&cairnv1.Promotion{Name: "services/orders/promotions/4", Revision: "v1.4.0", Environment: "production", Requester: "user:default/jane",
		Evidence: &cairnv1.PromotionEvidence{Currency: "USD", MonthlyCostChange: 6.721293, CostChangeBasis: "first promotion into production, which runs nothing yet: its workload",
			TeamSpent: 4900, TeamProjected: 7352.240431, TeamBudget: &budget, ProjectedOverBudget: true,
			ChangeFailureRate: 0.25, ChangeFailureDeployments: 8, ChangeFailureBand: "low",
			RunningRevision: "v1.3.0", OpenIncidents: []string{"services/orders/incidents/INC-7"}}})
	require.Equal(t, "*Promotion of orders*: `v1.4.0` into *production*\nRequested by user:default/jane"+
		"\n*Cost*: +6.72 USD a month (first promotion into production, which runs nothing yet: its workload)"+
		"\n*Team this month*: 4900.00 USD spent, 7352.24 projected of a 5000.00 budget: *over budget*"+
		"\n*Change failure rate*: 25% of 8 deployments in 30 days (low)"+
		"\n*Open incidents* on `v1.3.0`: INC-7"+
		"\nAn approver of the team, other than the requester, decides.", msg.Blocks.BlockSet[0].(*slack.SectionBlock).Text.Text)
	require.IsType(t, &slack.ActionBlock{}, msg.Blocks.BlockSet[1], "the buttons follow the evidence")

	msg = pendingMessage(&cairnv1.Promotion{Name: "services/orders/promotions/1", Revision: "v1.2.0", Environment: "production", Requester: "user:default/jane",
		EvidenceMissing: "recorded before Cairn kept evidence on promotions"})
	require.Contains(t, msg.Blocks.BlockSet[0].(*slack.SectionBlock).Text.Text, "\n_No evidence: recorded before Cairn kept evidence on promotions._")
}
