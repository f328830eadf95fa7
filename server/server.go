// Package server wires Cairn together: configuration, the store, the gRPC
// server with its interceptors, health and reflection, and the HTTP server
// with the REST gateway, health endpoints and Prometheus metrics.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	"github.com/fullstorydev/grpchan/inprocgrpc"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/audit"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/catalog"
	"github.com/cairn-dev/cairn/server/cost"
	"github.com/cairn-dev/cairn/server/kube"
	dorametrics "github.com/cairn-dev/cairn/server/metrics"
	"github.com/cairn-dev/cairn/server/provisioning"
	"github.com/cairn-dev/cairn/server/tlsreload"
	"github.com/cairn-dev/cairn/store"
)

// How often the store is checked to keep gRPC health current.
const readinessInterval = 5 * time.Second

// Run serves Cairn until ctx is done, then shuts down in order: health
// NOT_SERVING, in-flight gRPC calls finished, HTTP drained, store closed.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	st, err := openAndMigrate(ctx, cfg.Store, cfg.MigrateOnStart, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("closing the store", "error", err)
		}
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

	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("grpc listener: %w", err)
	}
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("http listener: %w", err)
	}
	if tlsConfig != nil {
		// TLS ends at the listeners, so that the in-process gateway
		// connection below needs none.
		grpcLis = tls.NewListener(grpcLis, tlsConfig)
		httpLis = tls.NewListener(httpLis, tlsConfig)
	}
	registry := prometheus.NewRegistry()
	delivery := dorametrics.New(st, dorametrics.NewPrometheus(registry), cfg.Events)
	provisioner, cluster, err := startProvisioning(ctx, cfg, st, delivery, registry, logger)
	if err != nil {
		return err
	}
	var workloads cost.Workloads // none without a cluster
	if cluster != nil {
		workloads = cluster
	}
	platform := dorametrics.NewPlatform(st, cluster)
	registry.MustRegister(dorametrics.NewPlatformCollector(st, logger))
	g := &guard{
		authenticator: authenticator,
		audit:         st,
		limiter:       newPrincipalLimiter(cfg.RateLimit, cfg.RateBurst),
		callTimeout:   cfg.CallTimeout,
		logger:        logger,
	}
	api, err := newAPI(cfg, logger, st, provisioner, dorametrics.NewServer(delivery, platform), workloads, g, registry)
	if err != nil {
		return err
	}
	grpcSrv, healthSrv := api.grpc, api.health
	gateway, err := newGateway(ctx, api.inProcess)
	if err != nil {
		return err
	}
	ready := &readiness{store: st, health: healthSrv, logger: logger}
	httpSrv := &http.Server{
		Handler:           newHTTPHandler(cfg, gateway, focusImportHandler(api.inProcess), registry, ready),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	var wg sync.WaitGroup
	serveErr := make(chan error, 2)
	wg.Go(func() {
		if err := grpcSrv.Serve(grpcLis); err != nil {
			serveErr <- fmt.Errorf("grpc server: %w", err)
		}
	})
	wg.Go(func() {
		if err := httpSrv.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- fmt.Errorf("http server: %w", err)
		}
	})
	watchCtx, stopWatch := context.WithCancel(ctx)
	wg.Go(func() { ready.watch(watchCtx, readinessInterval) })
	logger.Info("cairn serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String(),
		"tls", tlsConfig != nil, "auth", cfg.Auth.Mode, "store", redactStoreURL(cfg.Store))

	select {
	case <-ctx.Done():
		err = nil
	case err = <-serveErr:
	}
	stopWatch()
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdown(cfg.ShutdownTimeout, ready, grpcSrv, httpSrv, logger)
	wg.Wait()
	return err
}

// shutdown stops serving within timeout: health first so that load
// balancers stop sending, then gRPC and HTTP drain their calls.
func shutdown(timeout time.Duration, ready *readiness, grpcSrv *grpc.Server, httpSrv *http.Server, logger *slog.Logger) {
	ready.shutDown()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	stopped := make(chan struct{})
	go func() {
		grpcSrv.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		logger.Warn("gRPC calls still running at the shutdown timeout; ending them")
		grpcSrv.Stop()
	}
	if err := httpSrv.Shutdown(ctx); err != nil {
		logger.Warn("HTTP connections still open at the shutdown timeout; closing them", "error", err)
		httpSrv.Close()
	}
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
}

func newAPI(cfg Config, logger *slog.Logger, st store.Store, provisioner *provisioning.Provisioner, metricsSrv *dorametrics.Server, workloads cost.Workloads, g *guard, registry *prometheus.Registry) (*api, error) {
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("protovalidate: %w", err)
	}
	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	registry.MustRegister(metrics, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	callLog := callLogger(logger)
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall)}
	recoverOpts := []recovery.Option{recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "handler panicked", "panic", p)
		return status.Error(codes.Internal, "internal error")
	})}
	// Outermost first: metrics and logs see the status the client gets; the
	// guard admits the caller before anything reads the request.
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
		recovery.StreamServerInterceptor(recoverOpts...),
		g.stream(),
		rewriteErrorsStream(logger),
		validateStream(validator),
	}
	a := &api{
		grpc: grpc.NewServer(
			grpc.MaxRecvMsgSize(cfg.MaxRequestBytes),
			grpc.ChainUnaryInterceptor(unary...),
			grpc.ChainStreamInterceptor(stream...),
		),
		health: health.NewServer(),
		inProcess: new(inprocgrpc.Channel).
			WithServerUnaryInterceptor(chainUnary(unary)).
			WithServerStreamInterceptor(chainStream(stream)),
	}

	catalogSrv := catalog.NewServer(catalog.New(st))
	provisioningSrv := provisioning.NewServer(provisioner)
	costSrv := cost.NewServer(st, cfg.Cost, workloads)
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

// startProvisioning connects to the cluster, when one is configured, starts
// the informers, and on whichever replica leads runs the reconciler and
// the intake of Argo CD's deployments into delivery. With no cluster the
// provisioner answers FAILED_PRECONDITION, the cluster is nil, and the
// rest of Cairn works on.
func startProvisioning(ctx context.Context, cfg Config, st store.Store, delivery *dorametrics.Service, registry *prometheus.Registry, logger *slog.Logger) (*provisioning.Provisioner, *kube.Cluster, error) {
	metrics := provisioning.NewMetrics(registry)
	settings := cfg.Kubernetes.settings()
	restConfig, err := kube.RESTConfig(cfg.Kubernetes.Kubeconfig)
	if errors.Is(err, kube.ErrNotConfigured) {
		logger.Warn("provisioning is off: " + err.Error())
		return provisioning.New(st, nil, settings, metrics, logger), nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	cluster, err := kube.NewCluster(restConfig, settings)
	if err != nil {
		return nil, nil, err
	}
	cluster.Start(ctx)
	provisioner := provisioning.New(st, cluster, settings, metrics, logger)
	intake := dorametrics.NewArgoCDIntake(cluster, delivery, logger)
	lead := func(ctx context.Context) {
		var wg sync.WaitGroup
		wg.Go(func() { provisioner.Run(ctx) })
		wg.Go(func() { intake.Run(ctx) })
		wg.Wait()
	}
	go func() {
		if !cluster.WaitForSync(ctx) {
			return
		}
		err := kube.RunAsLeader(ctx, restConfig, cfg.Kubernetes.LeaseNamespace, logger, lead)
		if err != nil {
			logger.Error("leader election failed: this replica will not reconcile", "error", err)
		}
	}()
	logger.Info("provisioning on Kubernetes", "host", restConfig.Host, "claims", settings.ClaimGroup+"/"+settings.ClaimVersion)
	return provisioner, cluster, nil
}
