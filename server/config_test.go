package server

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cairn.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

// env is an environment with authentication turned off, unless vars say
// otherwise: most settings are valid without it.
func env(vars map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		if k == "CAIRN_AUTH_MODE" {
			return "none"
		}
		return ""
	}
}

func TestLoadConfigRefusesAuthenticationWithNothingToCheckWith(t *testing.T) {
	_, err := LoadConfig(nil, func(string) string { return "" }, io.Discard)
	require.ErrorContains(t, err, "auth.mode is required but no tokens or backstage.jwksUrl are configured")
}

func TestLoadConfigWithNothingSetGivesTheDefaults(t *testing.T) {
	cfg, err := LoadConfig(nil, env(nil), io.Discard)
	require.NoError(t, err)
	want := DefaultConfig()
	want.Auth.Mode = auth.ModeNone
	require.Equal(t, want, cfg)
	require.Equal(t, ":9090", cfg.GRPCAddr)
	require.Equal(t, ":8080", cfg.HTTPAddr)
	require.Equal(t, "sqlite:cairn.db", cfg.Store)
}

func TestTheIncidentLinkWindowIsSetByFlagEnvironmentOrFile(t *testing.T) {
	require.Equal(t, 24*time.Hour, DefaultConfig().Metrics.IncidentLinkWindow)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		file string
	}{
		{args: []string{"--incident-link-window", "36h"}},
		{env: map[string]string{"CAIRN_INCIDENT_LINK_WINDOW": "36h"}},
		{file: "metrics: {incidentLinkWindow: 36h}\n"},
	} {
		args := tc.args
		if tc.file != "" {
			args = append(args, "--config", writeConfig(t, tc.file))
		}
		cfg, err := LoadConfig(args, env(tc.env), io.Discard)
		require.NoError(t, err)
		require.Equal(t, 36*time.Hour, cfg.Metrics.IncidentLinkWindow)
	}
}

func TestLoadConfigPrecedenceIsFlagThenEnvironmentThenFileThenDefault(t *testing.T) {
	file := writeConfig(t, "grpcAddr: :1001\nhttpAddr: :2001\nstore: sqlite:file.db\nshutdownTimeout: 3s\n")
	cfg, err := LoadConfig(
		[]string{"--config", file, "--grpc-addr", ":1003"},
		env(map[string]string{"CAIRN_GRPC_ADDR": ":1002", "CAIRN_HTTP_ADDR": ":2002"}),
		io.Discard,
	)
	require.NoError(t, err)
	require.Equal(t, ":1003", cfg.GRPCAddr, "flag beats environment and file")
	require.Equal(t, ":2002", cfg.HTTPAddr, "environment beats file")
	require.Equal(t, "sqlite:file.db", cfg.Store, "file beats default")
	require.Equal(t, 3*time.Second, cfg.ShutdownTimeout)
	require.Equal(t, "info", cfg.LogLevel, "default when nothing sets it")
}

func TestLoadConfigTakesTheFileFromTheEnvironment(t *testing.T) {
	file := writeConfig(t, "logLevel: debug\n")
	cfg, err := LoadConfig(nil, env(map[string]string{"CAIRN_CONFIG": file}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "debug", cfg.LogLevel)
}

func TestLoadConfigRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want string
	}{
		{name: "an unknown key in the file", file: "grpcAdress: :1\n", want: "field grpcAdress not found"},
		{name: "an unknown flag", args: []string{"--grpc-adress", ":1"}, want: "flag provided but not defined"},
		{name: "a bad environment value", env: map[string]string{"CAIRN_SHUTDOWN_TIMEOUT": "soon"}, want: "CAIRN_SHUTDOWN_TIMEOUT"},
		{name: "an unknown log level", args: []string{"--log-level", "loud"}, want: "log level"},
		{name: "a missing file", args: []string{"--config", "/nonexistent/cairn.yaml"}, want: "config file"},
		{name: "a stray argument", args: []string{"extra"}, want: "unexpected argument"},
		{name: "an unknown auth mode", args: []string{"--auth-mode", "maybe"}, want: "auth.mode"},
		{name: "a certificate without its key", args: []string{"--tls-cert-file", "cert.pem"}, want: "tls"},
		{name: "a negative rate limit", args: []string{"--rate-limit", "-1"}, want: "rate limit"},
		{name: "no body timeout", args: []string{"--body-timeout", "0s"}, want: "body timeout"},
		{name: "no upload rate", env: map[string]string{"CAIRN_UPLOAD_MIN_RATE": "0"}, want: "upload min rate"},
		{name: "an unauthenticated audit rate without burst", file: "unauthenticatedAuditRate: 2\nunauthenticatedAuditBurst: 0\n", want: "unauthenticated audit rate"},
		{name: "more connections per client than in all", args: []string{"--max-connections", "10", "--max-connections-per-client", "11"}, want: "max connections 10, per client 11"},
		{name: "no streams per client", env: map[string]string{"CAIRN_MAX_STREAMS_PER_CLIENT": "0"}, want: "max streams 10000, per client 0"},
		{name: "an event window that takes no event", env: map[string]string{"CAIRN_EVENT_MAX_AGE": "0s"}, want: "event window"},
		{name: "an event window in the file that looks back no time", file: "events: {maxAge: 0s}\n", want: "event window"},
		{name: "no incident link window", env: map[string]string{"CAIRN_INCIDENT_LINK_WINDOW": "0s"}, want: "incident link window"},
		{name: "an incident link window in the file past a month", file: "metrics: {incidentLinkWindow: 800h}\n", want: "incident link window 800h0m0s must be positive and at most 31 days"},
		{name: "a promotion path that goes round", file: "kubernetes:\n  environments:\n  - {name: staging, promotion: {from: production}}\n  - {name: production, promotion: {from: staging}}\n",
			want: "kubernetes: environments: promotions go round in a cycle: staging -> production -> staging"},
		{name: "a promotion from an environment not on the path", file: "kubernetes:\n  environments:\n  - {name: dev}\n  - {name: production, sync: promotion, promotion: {from: staging}}\n",
			want: `promotion from "staging", which is not an environment (have dev, production)`},
		{name: "a promotion path of no environment", file: "kubernetes: {environments: []}\n", want: "kubernetes: environments: at least one is required"},
		{name: "an environment on a cluster not configured", file: "kubernetes:\n  clusters:\n  - {name: hub, kubeconfig: hub.yaml}\n  environments:\n  - {name: dev, cluster: spoke-eu}\n",
			want: `kubernetes: environment dev names cluster "spoke-eu", which is not configured (have hub)`},
		{name: "claims on a cluster not configured", file: "kubernetes: {claimsCluster: management}\n",
			want: `kubernetes: claimsCluster names cluster "management", which is not configured (have default)`},
		{name: "an environment's claims on a cluster not configured", file: "kubernetes:\n  environments:\n  - {name: dev, claims: {cluster: data}}\n",
			want: `kubernetes: the claims of environment dev names cluster "data", which is not configured (have default)`},
		{name: "a cluster named twice", file: "kubernetes:\n  clusters:\n  - {name: hub}\n  - {name: hub}\n", want: `clusters[1]: "hub" is named twice`},
		{name: "an unknown setting of an environment", file: "kubernetes:\n  environments:\n  - {name: dev, autoSync: true}\n", want: "field autoSync not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeConfig(t, tt.file))
			}
			_, err := LoadConfig(args, env(tt.env), io.Discard)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestLoadConfigReadsTheAuthSectionOfTheFile(t *testing.T) {
	file := writeConfig(t, `
auth:
  mode: required
  tokens:
    - name: backstage-proxy
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
      roles: [viewer]
tls:
  certFile: /etc/cairn/tls.crt
  keyFile: /etc/cairn/tls.key
`)
	cfg, err := LoadConfig([]string{"--config", file}, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	require.Equal(t, auth.ModeRequired, cfg.Auth.Mode)
	require.Equal(t, "backstage-proxy", cfg.Auth.Tokens[0].Name)
	require.Equal(t, TLSConfig{CertFile: "/etc/cairn/tls.crt", KeyFile: "/etc/cairn/tls.key"}, cfg.TLS)
}

func TestLoadConfigSetsTheConnectionAndStreamLimitsFromEachSource(t *testing.T) {
	file := writeConfig(t, "maxConnections: 500\nmaxStreamsPerClient: 7\n")
	cfg, err := LoadConfig(
		[]string{"--config", file, "--max-streams", "70"},
		env(map[string]string{"CAIRN_MAX_CONNECTIONS_PER_CLIENT": "50"}),
		io.Discard,
	)
	require.NoError(t, err)
	require.Equal(t, 500, cfg.MaxConnections)
	require.Equal(t, 50, cfg.MaxConnectionsPerClient)
	require.Equal(t, 70, cfg.MaxStreams)
	require.Equal(t, 7, cfg.MaxStreamsPerClient)
}

// TestTheDocumentedPromotionPathLoads loads the example path of
// docs/provisioning.md as Cairn's config file.
// documentedYAML is the first YAML block under heading in docs/page.
func documentedYAML(t *testing.T, page, heading string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", page))
	require.NoError(t, err)
	_, section, found := strings.Cut(string(doc), "\n"+heading+"\n")
	require.True(t, found, "docs/%s has no %q section", page, heading)
	_, block, found := strings.Cut(section, "```yaml\n")
	require.True(t, found, "section %q shows no YAML", heading)
	block, _, _ = strings.Cut(block, "```")
	return block
}

func TestTheDocumentedPromotionPathLoads(t *testing.T) {
	cfg, err := LoadConfig([]string{"--config", writeConfig(t, documentedYAML(t, "provisioning.md", "## Environments"))}, env(nil), io.Discard)
	require.NoError(t, err)
	settings := cfg.Kubernetes.settings()
	require.Equal(t, []string{"dev", "staging", "production"}, settings.EnvironmentNames())
	production, _ := settings.Environment("production")
	require.Equal(t, manifest.Environment{
		Name: "production", Sync: manifest.SyncPromotion, Revision: "release", Replicas: true, Production: true,
		ArgoCDNamespace: "argocd-prod", ArgoCDProject: "{team}-production", DestinationName: "prod-eu",
		Promotion: &manifest.Promotion{From: "staging", Approval: true, RequireRunning: true},
	}, production)
	require.Equal(t, []string{"production"}, settings.ProductionEnvironments())
}

func TestTheDocumentedClaimsPerEnvironmentLoad(t *testing.T) {
	cfg, err := LoadConfig([]string{"--config", writeConfig(t, documentedYAML(t, "provisioning.md", "### Claims per environment"))}, env(nil), io.Discard)
	require.NoError(t, err)
	settings := cfg.Kubernetes.settings()
	production, _ := settings.Environment("production")
	require.Equal(t, &manifest.Claims{Cluster: "production", Namespace: "{team}-production"}, production.Claims)
	plan := manifest.Plan{Service: "orders-service", Team: "team-orders", Environments: []string{"dev", "staging", "production"}}
	require.Equal(t, []manifest.ClaimSet{{Namespace: "team-orders"}, {Environment: "production", Namespace: "team-orders-production"}},
		settings.ClaimSets(plan), "as the section says")
}

func TestTheDocumentedSlackAndNotificationsLoad(t *testing.T) {
	cfg, err := LoadConfig([]string{"--config", writeConfig(t, documentedYAML(t, "slack.md", "## Setting up the app"))}, env(nil), io.Discard)
	require.NoError(t, err)
	require.Len(t, cfg.Slack.Users, 2)
	require.Equal(t, "/etc/cairn/slack/signing-secret", cfg.Slack.SigningSecretFile)

	cfg, err = LoadConfig([]string{"--config", writeConfig(t, documentedYAML(t, "notifications.md", "## Setting them up"))}, env(nil), io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.Notifications.Enabled())
	require.Equal(t, "team-orders", cfg.Notifications.Slack[0].Team)
}

// TestTheDeployedEnvironmentExamplesLoad loads deploy/environments as
// Cairn's config file: each names three clusters and places every
// environment on one of them.
func TestTheDeployedEnvironmentExamplesLoad(t *testing.T) {
	for file, placed := range map[string][]string{
		"hub-and-spoke.yaml":      {"management", "management", "management"},
		"argocd-per-cluster.yaml": {"management", "staging", "production"},
	} {
		t.Run(file, func(t *testing.T) {
			cfg, err := LoadConfig([]string{"--config", filepath.Join("..", "deploy", "environments", file)}, env(nil), io.Discard)
			require.NoError(t, err)
			var names []string
			for _, c := range cfg.Kubernetes.clusters() {
				names = append(names, c.Name)
			}
			require.Equal(t, []string{"management", "staging", "production"}, names)
			settings := cfg.Kubernetes.settings()
			require.Equal(t, []string{"dev", "staging", "production"}, settings.EnvironmentNames())
			var got []string
			for _, name := range settings.EnvironmentNames() {
				e, _ := settings.Environment(name)
				got = append(got, e.Cluster)
			}
			require.Equal(t, placed, got)
			require.Equal(t, []string{"production"}, settings.ProductionEnvironments())
			if file == "argocd-per-cluster.yaml" {
				production, _ := settings.Environment("production")
				require.Equal(t, &manifest.Claims{Cluster: "production", Namespace: "{team}-data"}, production.Claims)
			}
		})
	}
}
