package server

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/chatops"
	"github.com/cairn-dev/cairn/server/cost"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/server/notify"
)

// EnvPrefix starts the environment variable of every setting: --grpc-addr
// is CAIRN_GRPC_ADDR.
const EnvPrefix = "CAIRN_"

// Config is every setting of `cairn serve`. Each has a flag, an environment
// variable and a YAML key; a flag beats the environment, which beats the
// file, which beats the default. Defaults work on a laptop.
type Config struct {
	GRPCAddr        string        `yaml:"grpcAddr"`
	HTTPAddr        string        `yaml:"httpAddr"`
	Store           string        `yaml:"store"`
	MigrateOnStart  bool          `yaml:"migrateOnStart"`
	LogLevel        string        `yaml:"logLevel"`
	LogFormat       string        `yaml:"logFormat"`
	Reflection      bool          `yaml:"reflection"`
	MaxRequestBytes int           `yaml:"maxRequestBytes"`
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
	CallTimeout     time.Duration `yaml:"callTimeout"`
	RateLimit       float64       `yaml:"rateLimit"`
	RateBurst       int           `yaml:"rateBurst"`
	// BodyTimeout bounds how long a REST request body takes to arrive; a
	// FOCUS upload may pause at most this long and must average
	// UploadMinRate bytes a second.
	BodyTimeout               time.Duration `yaml:"bodyTimeout"`
	UploadMinRate             int           `yaml:"uploadMinRate"`
	UnauthenticatedAuditRate  float64       `yaml:"unauthenticatedAuditRate"`
	UnauthenticatedAuditBurst int           `yaml:"unauthenticatedAuditBurst"`
	TLS                       TLSConfig     `yaml:"tls"`
	Kubernetes                KubeConfig    `yaml:"kubernetes"`
	// Connections and streams held open, on both ports together: per
	// client address (an IPv6 client is its /64) and in all.
	MaxConnections          int `yaml:"maxConnections"`
	MaxConnectionsPerClient int `yaml:"maxConnectionsPerClient"`
	MaxStreams              int `yaml:"maxStreams"`
	MaxStreamsPerClient     int `yaml:"maxStreamsPerClient"`
	// Events bounds the times of recorded deployments, incidents and
	// tickets around now.
	Events delivery.EventWindow `yaml:"events"`
	// Metrics is how DORA metrics count delivery events.
	Metrics MetricsConfig `yaml:"metrics"`
	// Cost is set in the file only: the currency and the price table cost
	// estimates use (see cost.DefaultConfig for the defaults and sources).
	Cost cost.Config `yaml:"cost"`
	// Auth is set in the file only (tokens and JWKS settings), except its
	// mode, which --auth-mode also sets.
	Auth auth.Config `yaml:"auth"`
	// Slack is set in the file only (the users and URLs), except its
	// signing secret's file, which --slack-signing-secret-file also sets.
	Slack chatops.Config `yaml:"slack"`
	// Notifications is set in the file only: the teams' Slack channels and
	// Backstage's notifications backend.
	Notifications notify.Config `yaml:"notifications"`
	// Promotions is how promotions are decided.
	Promotions PromotionsConfig `yaml:"promotions"`
}

// PromotionsConfig is how promotions are decided.
type PromotionsConfig struct {
	// BudgetGuard makes approving a promotion whose evidence projects its
	// team over its monthly budget need an admin; off by default.
	BudgetGuard bool `yaml:"budgetGuard"`
}

// MetricsConfig is how DORA metrics count delivery events.
type MetricsConfig struct {
	// IncidentLinkWindow is how long before an incident that names no
	// revision opened a production deployment may have finished to be
	// charged with it (see delivery.DefaultIncidentLinkWindow).
	IncidentLinkWindow time.Duration `yaml:"incidentLinkWindow"`
}

// KubeConfig is where provisioning happens.
type KubeConfig struct {
	// Kubeconfig is a kubeconfig file; else $KUBECONFIG; else the in-cluster
	// service account; else provisioning is off.
	Kubeconfig      string `yaml:"kubeconfig"`
	ClaimGroup      string `yaml:"claimGroup"`
	ClaimVersion    string `yaml:"claimVersion"`
	ArgoCDNamespace string `yaml:"argocdNamespace"`
	ArgoCDProject   string `yaml:"argocdProject"`
	// LeaseNamespace holds the Lease the replicas elect a leader with.
	LeaseNamespace string `yaml:"leaseNamespace"`
	// Environments is the promotion path, in order, set in the YAML file
	// only; none means staging then production (manifest.DefaultEnvironments).
	Environments []manifest.Environment `yaml:"environments"`
	// Clusters are the API servers Cairn provisions on, in the YAML file
	// only; none means the one of Kubeconfig, named default.
	Clusters []ClusterConfig `yaml:"clusters"`
	// ClaimsCluster holds the claims and the team namespaces they need
	// (but an environment's own claims, which go where it says);
	// LeaderCluster the Lease the replicas elect a leader with. Empty: the
	// first cluster.
	ClaimsCluster string `yaml:"claimsCluster"`
	LeaderCluster string `yaml:"leaderCluster"`
}

// ClusterConfig is one API server Cairn provisions on.
type ClusterConfig struct {
	// Name is how environments, claimsCluster and leaderCluster name it.
	Name string `yaml:"name"`
	// Kubeconfig is its kubeconfig file, and Context the context there;
	// empty: the current one.
	Kubeconfig string `yaml:"kubeconfig"`
	Context    string `yaml:"context"`
}

// defaultClusterName names the one cluster of --kubeconfig.
const defaultClusterName = "default"

// clusters are the configured clusters, or the one of Kubeconfig.
func (k KubeConfig) clusters() []ClusterConfig {
	if len(k.Clusters) > 0 {
		return k.Clusters
	}
	return []ClusterConfig{{Name: defaultClusterName, Kubeconfig: k.Kubeconfig}}
}

// validateClusters reports every cluster name that is not a configured
// cluster, and clusters named twice or badly.
func (k KubeConfig) validateClusters() error {
	var errs []error
	names := map[string]bool{}
	for i, c := range k.clusters() {
		if bad := validation.IsDNS1123Label(c.Name); len(bad) > 0 {
			errs = append(errs, fmt.Errorf("kubernetes: clusters[%d]: name %q: %s", i, c.Name, bad[0]))
		}
		if names[c.Name] {
			errs = append(errs, fmt.Errorf("kubernetes: clusters[%d]: %q is named twice", i, c.Name))
		}
		names[c.Name] = true
	}
	have := strings.Join(slices.Sorted(maps.Keys(names)), ", ")
	check := func(of, name string) {
		if name != "" && !names[name] {
			errs = append(errs, fmt.Errorf("kubernetes: %s names cluster %q, which is not configured (have %s)", of, name, have))
		}
	}
	check("claimsCluster", k.ClaimsCluster)
	check("leaderCluster", k.LeaderCluster)
	for _, env := range k.Environments {
		check("environment "+env.Name, env.Cluster)
		if env.Claims != nil {
			check("the claims of environment "+env.Name, env.Claims.Cluster)
		}
	}
	return errors.Join(errs...)
}

// TLSConfig turns TLS on for both ports. The files are read again when they
// change, so rotated certificates are served without a restart.
type TLSConfig struct {
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
}

// DefaultConfig is the configuration with nothing set.
func DefaultConfig() Config {
	return Config{
		GRPCAddr:        ":9090",
		HTTPAddr:        ":8080",
		Store:           "sqlite:cairn.db",
		MigrateOnStart:  true,
		LogLevel:        "info",
		LogFormat:       "text",
		Reflection:      true,
		MaxRequestBytes: 1 << 20,
		ShutdownTimeout: 15 * time.Second,
		CallTimeout:     30 * time.Second,
		RateLimit:       500,
		RateBurst:       1000,
		BodyTimeout:     30 * time.Second,
		UploadMinRate:   16 << 10,
		// One audit event a second of calls without valid credentials,
		// sixty at once: the metric counts every one of them.
		UnauthenticatedAuditRate:  1,
		UnauthenticatedAuditBurst: 60,
		Auth:                      auth.Config{Mode: auth.ModeRequired},
		// A client behind a proxy or NAT is many callers: its share is
		// large, and still a tenth of the whole.
		MaxConnections:          10000,
		MaxConnectionsPerClient: 1000,
		MaxStreams:              10000,
		MaxStreamsPerClient:     1000,
		Kubernetes: KubeConfig{
			ClaimGroup:      manifest.DefaultClaimGroup,
			ClaimVersion:    manifest.DefaultClaimVersion,
			ArgoCDNamespace: manifest.DefaultArgoCDNamespace,
			ArgoCDProject:   manifest.DefaultArgoCDProject,
			LeaseNamespace:  "default",
		},
		Cost:    cost.DefaultConfig(),
		Events:  delivery.DefaultEventWindow,
		Metrics: MetricsConfig{IncidentLinkWindow: delivery.DefaultIncidentLinkWindow},
	}
}

// flagSet binds every setting to a flag. The usage texts are the
// configuration reference (`cairn serve --help`).
func (c *Config) flagSet(name string, configFile *string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(configFile, "config", "", "YAML file of settings (keys as in docs/configuration.md); unknown keys are an error")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", c.GRPCAddr, "address of the gRPC server")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "address of the HTTP server: REST, /healthz, /readyz, /metrics")
	fs.StringVar(&c.Store, "store", c.Store, "store URL: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB")
	fs.BoolVar(&c.MigrateOnStart, "migrate-on-start", c.MigrateOnStart, "apply store migrations at start; when false, run `cairn migrate` first")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json")
	fs.BoolVar(&c.Reflection, "reflection", c.Reflection, "serve gRPC server reflection")
	fs.IntVar(&c.MaxRequestBytes, "max-request-bytes", c.MaxRequestBytes, "largest request body (REST) or message (gRPC) accepted")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight calls may finish on shutdown")
	fs.DurationVar(&c.CallTimeout, "call-timeout", c.CallTimeout, "deadline of every unary call; a caller's own deadline may be shorter")
	fs.Float64Var(&c.RateLimit, "rate-limit", c.RateLimit, "calls per second each principal may make (0: no limit)")
	fs.IntVar(&c.RateBurst, "rate-burst", c.RateBurst, "calls a principal may make at once above its rate")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", c.BodyTimeout, "longest a REST request body may take to arrive, and a FOCUS upload may pause")
	fs.IntVar(&c.UploadMinRate, "upload-min-rate", c.UploadMinRate, "bytes per second a FOCUS upload must average while Cairn waits for it")
	fs.Float64Var(&c.UnauthenticatedAuditRate, "unauthenticated-audit-rate", c.UnauthenticatedAuditRate, "audit events per second of mutating calls without valid credentials, all callers together; the rest are only counted (0: no limit)")
	fs.IntVar(&c.UnauthenticatedAuditBurst, "unauthenticated-audit-burst", c.UnauthenticatedAuditBurst, "such events written at once above their rate")
	fs.IntVar(&c.MaxConnections, "max-connections", c.MaxConnections, "connections open at once, both ports together; more are closed at once")
	fs.IntVar(&c.MaxConnectionsPerClient, "max-connections-per-client", c.MaxConnectionsPerClient, "connections one client address (an IPv6 /64) may hold open")
	fs.IntVar(&c.MaxStreams, "max-streams", c.MaxStreams, "streaming calls (watches, uploads) open at once, gRPC and REST together; more answer RESOURCE_EXHAUSTED")
	fs.IntVar(&c.MaxStreamsPerClient, "max-streams-per-client", c.MaxStreamsPerClient, "streaming calls one client address (an IPv6 /64) may hold open")
	fs.StringVar(&c.Slack.SigningSecretFile, "slack-signing-secret-file", c.Slack.SigningSecretFile, "file holding the Slack app's signing secret; Slack's endpoints are off when empty")
	fs.StringVar(&c.TLS.CertFile, "tls-cert-file", c.TLS.CertFile, "PEM certificate for both ports; TLS is off when empty")
	fs.StringVar(&c.TLS.KeyFile, "tls-key-file", c.TLS.KeyFile, "PEM private key of --tls-cert-file")
	fs.StringVar(&c.Kubernetes.Kubeconfig, "kubeconfig", c.Kubernetes.Kubeconfig, "kubeconfig file of the cluster to provision on; else $KUBECONFIG, else in-cluster")
	fs.StringVar(&c.Kubernetes.ClaimGroup, "claim-group", c.Kubernetes.ClaimGroup, "API group of the platform's claims (DatabaseClaim, BucketClaim)")
	fs.StringVar(&c.Kubernetes.ClaimVersion, "claim-version", c.Kubernetes.ClaimVersion, "API version of the platform's claims")
	fs.StringVar(&c.Kubernetes.ArgoCDNamespace, "argocd-namespace", c.Kubernetes.ArgoCDNamespace, "namespace of Argo CD's Applications")
	fs.StringVar(&c.Kubernetes.ArgoCDProject, "argocd-project", c.Kubernetes.ArgoCDProject, "Argo CD project of a team's Applications; {team} is replaced")
	fs.StringVar(&c.Kubernetes.LeaseNamespace, "lease-namespace", c.Kubernetes.LeaseNamespace, "namespace of the Lease that elects the reconciling replica")
	fs.DurationVar(&c.Events.MaxAge, "event-max-age", c.Events.MaxAge, "oldest a recorded deployment, incident or ticket may be")
	fs.DurationVar(&c.Events.MaxFuture, "event-max-future", c.Events.MaxFuture, "how far ahead of the server's clock an event's time may be")
	fs.BoolVar(&c.Promotions.BudgetGuard, "promotion-budget-guard", c.Promotions.BudgetGuard, "approving a promotion whose evidence projects its team over its monthly budget needs an admin")
	fs.DurationVar(&c.Metrics.IncidentLinkWindow, "incident-link-window", c.Metrics.IncidentLinkWindow, "how long before an incident naming no revision opened a production deployment may have finished to be charged with it")
	fs.Var((*modeFlag)(&c.Auth.Mode), "auth-mode", "required (every call but health and reflection authenticated) or none (no authentication: development only)")
	return fs
}

// modeFlag lets --auth-mode set the auth section's mode.
type modeFlag auth.Mode

func (m *modeFlag) String() string     { return string(*m) }
func (m *modeFlag) Set(v string) error { *m = modeFlag(v); return nil }

// LoadConfig reads the settings of `cairn serve` from its arguments, the
// environment (through getenv) and the YAML file named by --config.
func LoadConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	cfg := DefaultConfig()
	var configFile string
	fs := cfg.flagSet("cairn serve", &configFile)
	fs.SetOutput(usage)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	// Flags given on the command line win: remember them, let the file and
	// the environment fill in, then apply them again.
	explicit := map[string]string{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = f.Value.String() })
	if configFile == "" {
		configFile = getenv(EnvPrefix + "CONFIG")
	}
	if configFile != "" {
		if err := cfg.loadFile(configFile); err != nil {
			return Config{}, err
		}
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		value, fromFlag := explicit[f.Name]
		source := "--" + f.Name
		if !fromFlag {
			env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
			if value = getenv(env); value == "" {
				return
			}
			source = env
		}
		if err := f.Value.Set(value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", source, err))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, cfg.validate()
}

func (c *Config) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// settings are the names provisioning writes objects under.
func (k KubeConfig) settings() manifest.Settings {
	return manifest.Settings{
		ClaimGroup: k.ClaimGroup, ClaimVersion: k.ClaimVersion,
		ArgoCDNamespace: k.ArgoCDNamespace, ArgoCDProject: k.ArgoCDProject,
		Environments: k.Environments,
	}
}

func (c *Config) validate() error {
	var errs []error
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log format %q: want text or json", c.LogFormat))
	}
	if c.MaxRequestBytes < 1024 {
		errs = append(errs, fmt.Errorf("max request bytes %d: want at least 1024", c.MaxRequestBytes))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout %s: want a positive duration", c.ShutdownTimeout))
	}
	if c.CallTimeout <= 0 {
		errs = append(errs, fmt.Errorf("call timeout %s: want a positive duration", c.CallTimeout))
	}
	if c.RateLimit < 0 || (c.RateLimit > 0 && c.RateBurst < 1) {
		errs = append(errs, fmt.Errorf("rate limit %g with burst %d: want a limit of 0 (off), or above 0 with a burst of at least 1", c.RateLimit, c.RateBurst))
	}
	if c.BodyTimeout <= 0 {
		errs = append(errs, fmt.Errorf("body timeout %s: want a positive duration", c.BodyTimeout))
	}
	if c.UploadMinRate < 1 {
		errs = append(errs, fmt.Errorf("upload min rate %d: want at least 1 byte per second", c.UploadMinRate))
	}
	if c.UnauthenticatedAuditRate < 0 || (c.UnauthenticatedAuditRate > 0 && c.UnauthenticatedAuditBurst < 1) {
		errs = append(errs, fmt.Errorf("unauthenticated audit rate %g with burst %d: want a rate of 0 (no limit), or above 0 with a burst of at least 1", c.UnauthenticatedAuditRate, c.UnauthenticatedAuditBurst))
	}
	for _, limit := range []struct {
		what               string
		perClient, overall int
	}{
		{"connections", c.MaxConnectionsPerClient, c.MaxConnections},
		{"streams", c.MaxStreamsPerClient, c.MaxStreams},
	} {
		if limit.perClient < 1 || limit.perClient > limit.overall {
			errs = append(errs, fmt.Errorf("max %s %d, per client %d: want at least 1 per client, and no more than in all", limit.what, limit.overall, limit.perClient))
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: give both a certificate file and a key file, or neither"))
	}
	if err := c.Auth.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Slack.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Notifications.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Slack.Enabled() && (len(c.Slack.Users) > 0 || c.Slack.Catalog.URL != "") && c.Auth.Backstage.JWKSURL == "" {
		errs = append(errs, errors.New("slack: Slack users are Backstage users: configure auth.backstage"))
	}
	if err := c.Cost.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Events.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := delivery.ValidateIncidentLinkWindow(c.Metrics.IncidentLinkWindow); err != nil {
		errs = append(errs, err)
	}
	if err := c.Kubernetes.validateClusters(); err != nil {
		errs = append(errs, err)
	}
	if c.Kubernetes.Environments != nil { // given, if only as []
		if err := manifest.ValidateEnvironments(c.Kubernetes.Environments); err != nil {
			errs = append(errs, fmt.Errorf("kubernetes: %w", err))
		}
	}
	return errors.Join(errs...)
}
