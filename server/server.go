// Package server wires Cairn together: configuration, the store, the gRPC
// server with its interceptors, health and reflection, and the HTTP server
// with the REST gateway, health endpoints and Prometheus metrics.
package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	"github.com/fullstorydev/grpchan/inprocgrpc"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"k8s.io/client-go/rest"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/audit"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/catalog"
	"github.com/cairn-dev/cairn/server/chatops"
	"github.com/cairn-dev/cairn/server/cost"
	"github.com/cairn-dev/cairn/server/delivery"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/server/evidence"
	"github.com/cairn-dev/cairn/server/kube"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/server/notify"
	"github.com/cairn-dev/cairn/server/provisioning"
	"github.com/cairn-dev/cairn/server/tlsreload"
	"github.com/cairn-dev/cairn/store"
)

// How often the store is checked to keep gRPC health current.
const readinessInterval = 5 * time.Second

// Run serves Cairn until ctx is done, then shuts down: health NOT_SERVING,
// watch streams ended, then gRPC and HTTP drain their calls, each within
// the shutdown timeout, while the reconciler stops and the lease is
// released. Run owns every goroutine it starts and returns once all have
// ended; the store is closed last.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	st, err := openAndMigrate(ctx, cfg.Store, cfg.MigrateOnStart, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("closing the store", "error", err)
			return
		}
		logger.Info("store closed")
	}()

	authenticator, err := auth.NewAuthenticator(ctx, cfg.Auth, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	if cfg.Auth.Mode == auth.ModeNone {
		logger.Warn("authentication is off (auth mode none): every caller acts as an admin; use it for development only")
	}
	var tlsConfig *tls.Config
	if cfg.TLS.CertFile != "" {
		reloader, err := tlsreload.New(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return err
		}
		tlsConfig = reloader.TLSConfig()
	}

	registry := prometheus.NewRegistry()
	// The ports are taken first, before anything opens connections of its
	// own (the informers' to the API server), whose local ports could
	// otherwise take the addresses asked for.
	connections := newOpenLimit(cfg.MaxConnectionsPerClient, cfg.MaxConnections, registry, "connections")
	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("grpc listener: %w", err)
	}
	grpcLis = limitListener(grpcLis, connections)
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("http listener: %w", err)
	}
	httpLis = limitListener(httpLis, connections)
	if tlsConfig != nil {
		// TLS ends at the listeners, so that the in-process gateway
		// connection needs none; a connection over the limits is closed
		// before its handshake.
		grpcLis = tls.NewListener(grpcLis, tlsConfig)
		httpLis = tls.NewListener(httpLis, tlsConfig)
	}
	serving := false
	defer func() {
		if !serving { // the servers close them once they serve
			grpcLis.Close()
			httpLis.Close()
		}
	}()
	// Everything Run starts runs in group, on runCtx: the first to fail,
	// or ctx, stops the rest. Returning early, Run stops and waits for
	// what it started before the store closes.
	runCtx, stop := context.WithCancel(ctx)
	group, runCtx := errgroup.WithContext(runCtx)
	defer func() {
		stop()
		group.Wait()
	}()

	teams, _ := cfg.Auth.Teams() // validated
	production := cfg.Kubernetes.settings().ProductionEnvironments()
	regressions := cost.NewRegressions(st, cfg.Cost, production)
	events := delivery.New(st, delivery.NewPrometheus(registry), cfg.Events, teams, production,
		delivery.WithIncidentLinkWindow(cfg.Metrics.IncidentLinkWindow)).WithCostRegressions(regressions)
	registry.MustRegister(cost.NewRegressionCollector(st, regressions, logger))
	provisioner, clusters, err := startProvisioning(runCtx, group, cfg, teams, st, events, registry, logger)
	if err != nil {
		return err
	}
	var workloads cost.Workloads // none without a cluster
	var claims delivery.ClaimsReader
	if clusters != nil {
		workloads, claims = clusters, clusters
	}
	platform := delivery.NewPlatform(st, claims)
	registry.MustRegister(delivery.NewPlatformCollector(st, logger))
	g := newGuard(authenticator, st, cfg, logger, registry)
	api, err := newAPI(cfg, logger, st, provisioner, delivery.NewServer(events, platform), workloads, g, registry)
	if err != nil {
		return err
	}
	provisioner.UseEvidence(evidence.New(api.cost, events, st), cfg.Promotions.BudgetGuard)
	api.cost.UseDora(doraBands{events: events})
	grpcSrv, healthSrv := api.grpc, api.health
	gateway, err := newGateway(runCtx, api.inProcess)
	if err != nil {
		return err
	}
	slack, err := newSlack(cfg, authenticator, api, logger, registry)
	if err != nil {
		return err
	}
	if cfg.Notifications.Enabled() {
		notifier, err := notify.New(cfg.Notifications, st, []notify.Source{api.cost.BudgetAlerts(), api.cost.AnomalyAlerts(), api.cost.DailyAnomalyAlerts(), provisioner.FailureAlerts()}, logger, registry)
		if err != nil {
			return err
		}
		group.Go(func() error {
			notifier.Run(runCtx)
			return nil
		})
	}
	ready := &readiness{store: st, health: healthSrv, logger: logger}
	// handlers counts the HTTP handlers running: http.Server.Close does
	// not wait for them, and they use the store.
	var handlers sync.WaitGroup
	httpSrv := &http.Server{
		Handler:           countHandlers(&handlers, newHTTPHandler(cfg, g, gateway, cost.FocusImportHandler(api.inProcess, forwardedToFocusImport), slackHandler(slack), registry, ready)),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnContext:       withClient,
	}

	serving = true
	group.Go(func() error {
		// Serve after the shutdown below has begun: not a failure.
		if err := grpcSrv.Serve(grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("grpc server: %w", err)
		}
		return nil
	})
	group.Go(func() error {
		if err := httpSrv.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	group.Go(func() error {
		ready.watch(runCtx, readinessInterval)
		return nil
	})
	group.Go(func() error {
		<-runCtx.Done()
		logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
		shutdown(cfg.ShutdownTimeout, ready, api.streams, grpcSrv, httpSrv, logger)
		handlers.Wait()
		if slack != nil {
			// Replies Slack's requests left to post, within their timeout.
			slack.Close()
		}
		return nil
	})
	logger.Info("cairn serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String(),
		"tls", tlsConfig != nil, "auth", cfg.Auth.Mode, "store", redactStoreURL(cfg.Store))
	return group.Wait()
}

// newSlack is Cairn's Slack app when it is configured, nil otherwise: its
// requests are made over the in-process channel as the Slack users'
// Backstage users.
func newSlack(cfg Config, authenticator *auth.Authenticator, api *api, logger *slog.Logger, registry prometheus.Registerer) (*chatops.Handler, error) {
	if !cfg.Slack.Enabled() {
		return nil, nil
	}
	return chatops.New(cfg.Slack, authenticator, chatops.API{
		Provisioning: cairnv1.NewProvisioningServiceClient(api.inProcess),
		As: func(ctx context.Context, p *auth.Principal) context.Context {
			return asPrincipal(ctx, p, transportSlack)
		},
	}, cfg.CallTimeout, logger, registry)
}

// slackHandler is h as the HTTP port serves it, nil for none.
func slackHandler(h *chatops.Handler) http.Handler {
	if h == nil {
		return nil
	}
	return h
}

// shutdown stops serving: health first so that load balancers stop
// sending, then the streams the server sends on are ended, as they would
// otherwise hold the drain to its end. gRPC and HTTP then drain at once,
// each within timeout of its own: a slow gRPC call does not use up the
// time of a REST call.
func shutdown(timeout time.Duration, ready *readiness, streams *streamGate, grpcSrv *grpc.Server, httpSrv *http.Server, logger *slog.Logger) {
	ready.shutDown()
	streams.stop()
	var drains sync.WaitGroup
	drains.Go(func() {
		stopped := make(chan struct{})
		go func() {
			grpcSrv.GracefulStop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(timeout):
			logger.Warn("gRPC calls still running at the shutdown timeout; ending them")
			grpcSrv.Stop()
			<-stopped
		}
	})
	drains.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := httpSrv.Shutdown(ctx); err != nil {
			logger.Warn("HTTP connections still open at the shutdown timeout; closing them", "error", err)
			httpSrv.Close()
		}
	})
	drains.Wait()
}

// api is Cairn's gRPC API twice over, with the same service
// implementations and interceptors: the server on the gRPC port, and an
// in-process channel for the REST facade. Going through the channel, a
// REST call passes every interceptor (metrics, logs, recovery, the guard,
// validation) without being encoded to protobuf, framed in HTTP/2 and
// decoded again on one shared connection, which made the REST facade
// cost half again as much as gRPC and serialized its calls.
type api struct {
	grpc      *grpc.Server
	health    *health.Server
	inProcess *inprocgrpc.Channel
	streams   *streamGate // of both
	// cost is CostService, whose budget alerts the notifier reads.
	cost *cost.Server
}

func newAPI(cfg Config, logger *slog.Logger, st store.Store, provisioner *provisioning.Provisioner, metricsSrv *delivery.Server, workloads cost.Workloads, g *guard, registry *prometheus.Registry) (*api, error) {
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("protovalidate: %w", err)
	}
	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	registry.MustRegister(metrics, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	streams := newStreamGate(cfg.MaxStreamsPerClient, cfg.MaxStreams, registry)
	callLog := callLogger(logger)
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall), logging.WithFieldsFromContext(clientFields)}
	recoverOpts := []recovery.Option{recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "handler panicked", "panic", p)
		return errPanicked
	})}
	// Outermost first: metrics and logs see the status the client gets; the
	// guard admits the caller before anything reads the request, and
	// audits a call whose handler panics as it unwinds to recovery.
	unary := []grpc.UnaryServerInterceptor{
		metrics.UnaryServerInterceptor(),
		logging.UnaryServerInterceptor(callLog, logOpts...),
		recovery.UnaryServerInterceptor(recoverOpts...),
		g.unary(),
		rewriteErrorsUnary(logger),
		validateUnary(validator),
	}
	stream := []grpc.StreamServerInterceptor{
		metrics.StreamServerInterceptor(),
		logging.StreamServerInterceptor(callLog, logOpts...),
		streams.interceptor(),
		recovery.StreamServerInterceptor(recoverOpts...),
		g.stream(),
		rewriteErrorsStream(logger),
		validateStream(validator),
	}
	a := &api{
		grpc: grpc.NewServer(
			grpc.MaxRecvMsgSize(cfg.MaxRequestBytes),
			grpc.MaxHeaderListSize(maxHeaderBytes),
			grpc.InTapHandle(g.tap),
			grpc.MaxConcurrentStreams(maxCallsPerConnection),
			grpc.WaitForHandlers(true), // Stop returns once no handler uses the store
			grpc.ChainUnaryInterceptor(unary...),
			grpc.ChainStreamInterceptor(stream...),
		),
		health: health.NewServer(),
		inProcess: new(inprocgrpc.Channel).
			WithServerUnaryInterceptor(chainUnary(unary)).
			WithServerStreamInterceptor(chainStream(stream)),
		streams: streams,
	}

	teams, _ := cfg.Auth.Teams() // validated
	catalogSrv := catalog.NewServer(catalog.New(st, teams))
	provisioningSrv := provisioning.NewServer(provisioner)
	costSrv := cost.NewServer(st, cfg.Cost, workloads, teams, cfg.Kubernetes.settings())
	a.cost = costSrv
	auditSrv := audit.NewServer(st)
	for _, r := range []grpc.ServiceRegistrar{a.grpc, a.inProcess} {
		cairnv1.RegisterCatalogServiceServer(r, catalogSrv)
		cairnv1.RegisterProvisioningServiceServer(r, provisioningSrv)
		cairnv1.RegisterCostServiceServer(r, costSrv)
		cairnv1.RegisterMetricsServiceServer(r, metricsSrv)
		cairnv1.RegisterAuditServiceServer(r, auditSrv)
	}

	healthpb.RegisterHealthServer(a.grpc, a.health)
	if cfg.Reflection {
		reflection.Register(a.grpc)
	}
	metrics.InitializeMetrics(a.grpc)
	// NOT_SERVING until the first store check passes.
	a.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	for _, name := range serviceNames {
		a.health.SetServingStatus(name, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	return a, nil
}

// chainUnary is interceptors as one, the first outermost, as
// grpc.ChainUnaryInterceptor chains them for the server.
func chainUnary(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		next := handler
		for _, interceptor := range slices.Backward(interceptors) {
			inner := next
			next = func(ctx context.Context, req any) (any, error) { return interceptor(ctx, req, info, inner) }
		}
		return next(ctx, req)
	}
}

// chainStream is chainUnary for streaming calls.
func chainStream(interceptors []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		next := handler
		for _, interceptor := range slices.Backward(interceptors) {
			inner := next
			next = func(srv any, ss grpc.ServerStream) error { return interceptor(srv, ss, info, inner) }
		}
		return next(srv, ss)
	}
}

func parseLogLevel(s string) (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return level, nil
}

// NewLogger returns the logger cfg asks for, writing to w.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	level, _ := parseLogLevel(cfg.LogLevel) // validated by LoadConfig
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// startProvisioning connects to the clusters, when any is configured,
// runs their informers, and on whichever replica leads (by the Lease on
// the leader cluster) runs the reconciler and the intake of Argo CD's
// deployments into delivery, all in group. With no cluster the
// provisioner answers FAILED_PRECONDITION, the clusters are nil, and the
// rest of Cairn works on.
func startProvisioning(ctx context.Context, group *errgroup.Group, cfg Config, teams entityref.Teams, st store.Store, events *delivery.Service, registry *prometheus.Registry, logger *slog.Logger) (*provisioning.Provisioner, *kube.Clusters, error) {
	metrics := provisioning.NewMetrics(registry)
	settings := cfg.Kubernetes.settings()
	clusters, leader, err := connectClusters(cfg.Kubernetes, settings)
	if errors.Is(err, kube.ErrNotConfigured) {
		logger.Warn("provisioning is off: " + err.Error())
		return provisioning.New(st, nil, settings, teams, metrics, logger), nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	provisioner := provisioning.New(st, clusters, settings, teams, metrics, logger)
	intake := delivery.NewArgoCDIntake(clusters, events, logger)
	lead := func(ctx context.Context) {
		var wg sync.WaitGroup
		wg.Go(func() { provisioner.Run(ctx) })
		wg.Go(func() { intake.Run(ctx) })
		wg.Wait()
	}
	group.Go(func() error {
		clusters.Run(ctx)
		return nil
	})
	group.Go(func() error {
		if !clusters.WaitForSync(ctx) {
			return nil
		}
		err := kube.RunAsLeader(ctx, leader, cfg.Kubernetes.LeaseNamespace, logger, lead)
		if err != nil {
			logger.Error("leader election failed: this replica will not reconcile", "error", err)
		}
		return nil
	})
	logger.Info("provisioning on Kubernetes", "clusters", strings.Join(clusters.Names(), ", "), "leader", leader.Host,
		"claims", settings.ClaimGroup+"/"+settings.ClaimVersion)
	return provisioner, clusters, nil
}

// connectClusters makes a kube.Cluster of each configured cluster, each
// watching what lives there: the Applications of the environments placed
// on it, the claims on the clusters that hold them; and returns the REST config of
// the leader cluster. kube.ErrNotConfigured when none is configured and
// none is found.
func connectClusters(k KubeConfig, settings manifest.Settings) (*kube.Clusters, *rest.Config, error) {
	configs := k.clusters()
	first := configs[0].Name
	placed := map[string]bool{}
	for _, name := range settings.EnvironmentNames() {
		env, _ := settings.Environment(name)
		placed[cmp.Or(env.Cluster, first)] = true
	}
	claimClusters := kube.ClaimClusters(settings, cmp.Or(k.ClaimsCluster, first))
	var clusters []*kube.Cluster
	var leader *rest.Config
	for _, c := range configs {
		restConfig, err := kube.RESTConfigOf(c.Kubeconfig, c.Context)
		if err != nil {
			if len(k.Clusters) > 0 && errors.Is(err, kube.ErrNotConfigured) {
				err = fmt.Errorf("cluster %s: give its kubeconfig", c.Name)
			}
			return nil, nil, err
		}
		watch := kube.Watch{Applications: placed[c.Name], Claims: slices.Contains(claimClusters, c.Name)}
		cluster, err := kube.NewClusterWatching(c.Name, restConfig, settings, watch)
		if err != nil {
			return nil, nil, fmt.Errorf("cluster %s: %w", c.Name, err)
		}
		clusters = append(clusters, cluster)
		if c.Name == cmp.Or(k.LeaderCluster, first) {
			leader = restConfig
		}
	}
	all, err := kube.NewClusters(settings, k.ClaimsCluster, clusters...)
	return all, leader, err
}

// countHandlers counts next's running handlers in running.
func countHandlers(running *sync.WaitGroup, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		running.Add(1)
		defer running.Done()
		next.ServeHTTP(w, r)
	})
}
