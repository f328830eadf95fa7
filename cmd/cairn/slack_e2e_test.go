package main

// Slack from the outside: the real binary behind the requests Slack would
// send, each signed with the test's signing secret, on a real API server;
// a local server stands in for Slack's response URLs.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/internal/testenv/slacktest"
	"github.com/cairn-dev/cairn/server/auth/authtest"
)

const slackSecret = "e2e-slack-signing-secret-3f9a"

// slackApp is a Cairn with its Slack endpoints on, Jane (a developer of
// team-orders) and Lee and Kai (release approvers there) mapped, and the
// stand-in for Slack.
type slackApp struct {
	p     *cairnProcess
	slack *slacktest.Receiver
	sent  int
}

func startSlackApp(t *testing.T, kubeconfig string) *slackApp {
	t.Helper()
	iss := authtest.NewIssuer(t)
	receiver := slacktest.NewReceiver(t)
	secret := filepath.Join(t.TempDir(), "slack-signing-secret")
	require.NoError(t, os.WriteFile(secret, []byte(slackSecret), 0o600))
	config := writeConfig(t, fmt.Sprintf(`  backstage:
    jwksUrl: %s
    issuer: %s
    audience: %s
    approvers: [group:default/release-approvers]
slack:
  signingSecretFile: %s
  responseUrlPrefix: %s/
  repositoryUrlPattern: https://github.com/company/{name}.git
  users:
    - {slackUser: UJANE1, user: user:default/jane, groups: [group:default/team-orders]}
    - {slackUser: ULEE22, user: user:default/lee, groups: [group:default/team-orders, group:default/release-approvers]}
    - {slackUser: UKAI33, user: user:default/kai, groups: [group:default/team-orders, group:default/release-approvers]}
`, iss.JWKSURL, iss.URL, authtest.Audience, secret, receiver.URL))
	p := launchCairnWithConfig(t, engines[0].storeURL(t), config, "--kubeconfig", kubeconfig)
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	return &slackApp{p: p, slack: receiver}
}

// post sends form to a Slack endpoint of Cairn with headers.
func (a *slackApp) post(t *testing.T, path string, form url.Values, header http.Header) (int, map[string]any) {
	t.Helper()
	r := slacktest.Send(t, "http://"+a.p.httpAddr+path, form.Encode(), header)
	return r.Status, r.Body
}

// command runs /platform text as a Slack user, signed, and returns Cairn's
// reply: the response when it came in time, else what it posted to the
// command's response URL.
func (a *slackApp) command(t *testing.T, user, text string) map[string]any {
	t.Helper()
	a.sent++
	form := url.Values{
		"command": {"/platform"}, "text": {text}, "user_id": {user}, "channel_id": {"C0ORDERS"},
		"trigger_id": {fmt.Sprintf("1.%d.e2e", a.sent)}, "response_url": {fmt.Sprintf("%s/commands/%d", a.slack.URL, a.sent)},
	}
	code, msg := a.post(t, "/slack/commands", form, slacktest.Sign(slackSecret, time.Now(), form.Encode()))
	require.Equal(t, http.StatusOK, code)
	if strings.HasPrefix(slacktest.Text(msg), "Working on it") {
		return a.slack.Next(t)
	}
	return msg
}

// click presses one of a message's buttons as a Slack user; Cairn posts
// what it did to the message's response URL.
func (a *slackApp) click(t *testing.T, user, actionID, value string) map[string]any {
	t.Helper()
	a.sent++
	payload, err := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "response_url": fmt.Sprintf("%s/actions/%d", a.slack.URL, a.sent),
		"actions": []any{map[string]any{"block_id": "cairn_promotion", "action_id": actionID, "value": value, "type": "button"}},
	})
	require.NoError(t, err)
	form := url.Values{"payload": {string(payload)}}
	code, _ := a.post(t, "/slack/interactivity", form, slacktest.Sign(slackSecret, time.Now(), form.Encode()))
	require.Equal(t, http.StatusOK, code)
	return a.slack.Next(t)
}

func TestSlackCreatesPromotesAndApprovesAsThePeopleInIt(t *testing.T) {
	env := kubetest.Start(t)
	app := startSlackApp(t, env.Kubeconfig(t))

	reply := app.command(t, "UJANE1", "create-service orders-slack --team team-orders --template node-microservice --env staging --env production")
	require.Contains(t, slacktest.Text(reply), "Service *orders-slack* is provisioning.\nEnvironments: staging, production")
	require.Eventually(t, func() bool { return len(objectsOnCluster(t, env, "orders-slack")) == 2 }, 30*time.Second, 100*time.Millisecond)

	pending := app.command(t, "ULEE22", "promote orders-slack --revision v1.4.0")
	require.Equal(t, "in_channel", pending["response_type"])
	require.Contains(t, slacktest.Text(pending), "*Promotion of orders-slack*: `v1.4.0` into *production*\nRequested by user:default/lee")
	buttons := slacktest.Buttons(t, pending)
	require.Len(t, buttons, 2)
	_, promotion, _ := strings.Cut(buttons[0], "=")
	targetRevision := func() string {
		rev, _, _ := unstructured.NestedString(env.Application(t, "orders-slack-production").Object, "spec", "source", "targetRevision")
		return rev
	}

	refusals := map[string]string{
		"UJANE1": "cairn.v1.ProvisioningService/ApprovePromotion needs the approver role",
		"ULEE22": "a promotion is decided by someone other than its requester (OWN_REQUEST)",
	}
	for _, user := range []string{"UJANE1", "ULEE22"} {
		refused := app.click(t, user, "cairn_approve_promotion", promotion)
		require.Equal(t, "ephemeral", refused["response_type"], "only the clicker sees why")
		require.Contains(t, slacktest.Text(refused), refusals[user])
		require.Equal(t, "release", targetRevision(), "a refused click changes nothing")
	}

	approved := app.click(t, "UKAI33", "cairn_approve_promotion", promotion)
	require.Equal(t, true, approved["replace_original"])
	require.Contains(t, slacktest.Text(approved), "*Approved* by user:default/kai: syncing production.")
	require.Equal(t, "v1.4.0", targetRevision())

	// The audit log names each person, as for their Backstage tokens.
	r := app.p.rest(t, "GET", "/v1/auditEvents?action=cairn.v1.ProvisioningService/ApprovePromotion", nil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	var decisions []string
	for _, e := range r.body["auditEvents"].([]any) {
		e := e.(map[string]any)
		decisions = append(decisions, fmt.Sprintf("%s %s %s", e["principal"], e["outcome"], e["code"]))
	}
	require.Equal(t, []string{
		"user:default/kai succeeded OK", "user:default/lee denied PermissionDenied", "user:default/jane denied PermissionDenied",
	}, decisions)
	r = app.p.rest(t, "GET", "/v1/auditEvents?action=cairn.v1.ProvisioningService/CreateService", nil)
	require.Equal(t, "user:default/jane", r.body["auditEvents"].([]any)[0].(map[string]any)["principal"])

	t.Run("ARequestSlackDidNotSignIsRefusedAndChangesNothing", func(t *testing.T) {
		form := url.Values{"text": {"promote orders-slack --revision v9"}, "user_id": {"UJANE1"}, "trigger_id": {"forged"}}
		code, _ := app.post(t, "/slack/commands", form, slacktest.Sign("guessed-secret", time.Now(), form.Encode()))
		require.Equal(t, http.StatusUnauthorized, code)
		code, _ = app.post(t, "/slack/commands", form, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		require.Equal(t, http.StatusUnauthorized, code)
		r := app.p.rest(t, "GET", "/v1/services/orders-slack/promotions", nil)
		require.Len(t, r.body["promotions"].([]any), 1, "no promotion was requested")
	})
}

// A promotion's notifications reach the team's channel and Backstage once
// each, though Cairn is killed while they are failing and started again.
func TestNotificationsOfAPromotionSurviveAKilledCairnOnceEach(t *testing.T) {
	env := kubetest.Start(t)
	iss := authtest.NewIssuer(t)
	channel, backstage := slacktest.NewReceiver(t), slacktest.NewReceiver(t)
	channel.SetFailing(true)
	backstage.SetFailing(true)
	dir := t.TempDir()
	hook, token := filepath.Join(dir, "hook"), filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(hook, []byte(channel.URL+"/services/T0/B0/orders"), 0o600))
	require.NoError(t, os.WriteFile(token, []byte("cairn-notifications-token"), 0o600))
	config := writeConfig(t, fmt.Sprintf(`    - name: orders-lead
      sha256: %s
      roles: [developer, approver]
      teams: [team-orders]
  backstage:
    jwksUrl: %s
    issuer: %s
    audience: %s
notifications:
  interval: 200ms
  slack:
    - {team: team-orders, webhookUrlFile: %s}
  backstage: {url: %s, tokenFile: %s}
`, tokenHash(ordersDeveloperToken), iss.JWKSURL, iss.URL, authtest.Audience, hook, backstage.URL, token))
	storeURL := engines[0].storeURL(t)
	p := launchCairnWithConfig(t, storeURL, config, "--kubeconfig", env.Kubeconfig(t))
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)

	r := p.restAs(t, ordersDeveloperToken, "POST", "/v1/services", strings.NewReader(`{"name": "orders-notified", "owner": "group:default/team-orders",
  "environments": ["staging", "production"], "repositoryUrl": "https://github.com/company/orders-notified.git"}`))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = p.restAs(t, ordersDeveloperToken, "POST", "/v1/services/orders-notified/promotions", strings.NewReader(`{"promotion": {"revision": "v2.0.0"}}`))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Eventually(t, func() bool { return channel.Refused() > 0 && backstage.Refused() > 0 }, 30*time.Second, 50*time.Millisecond,
		"Cairn did not try to notify")

	require.NoError(t, p.cmd.Process.Kill())
	<-p.exited
	channel.SetFailing(false)
	backstage.SetFailing(false)
	again := launchCairnWithConfig(t, storeURL, config, "--kubeconfig", env.Kubeconfig(t))
	again.waitHealth(t, healthpb.HealthCheckResponse_SERVING)

	message := channel.Next(t)
	require.Equal(t, "/services/T0/B0/orders", message["path"])
	require.Contains(t, slacktest.Text(message), "orders-lead asks to promote v2.0.0 of orders-notified into production.")
	notification := backstage.Next(t)
	require.Equal(t, "/api/notifications/notifications", notification["path"])
	require.Equal(t, []any{"group:default/team-orders"}, notification["recipients"].(map[string]any)["entityRef"])
	// Several more passes: nothing else arrives.
	time.Sleep(time.Second)
	require.Zero(t, channel.Pending(), "one message in the channel")
	require.Zero(t, backstage.Pending(), "one notification in Backstage")
}
