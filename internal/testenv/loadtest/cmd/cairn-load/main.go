// Command cairn-load seeds a running Cairn with a fleet of services and
// measures it under an entity-page load, over REST and gRPC side by side
// (see package loadtest):
//
//	cairn-load seed -grpc localhost:9090
//	cairn-load run -rest http://localhost:8080 -grpc localhost:9090 -workers 16 -duration 30s
//	cairn-load run -rest http://localhost:8080 -grpc localhost:9090 -rate 2000 -duration 30s
//
// The bearer token, with the admin role, comes from CAIRN_TOKEN.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-dev/cairn/internal/testenv/loadtest"
)

const usage = `Usage: cairn-load <command> [flags]

Commands:
  seed   register, create, bill and deploy the fleet through the API
  run    load the fleet over each protocol in turn and report the figures

The bearer token (admin role) comes from CAIRN_TOKEN. cairn-load <command> -h lists flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "cairn-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	fs := flag.NewFlagSet("cairn-load "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := loadtest.Target{Token: strings.TrimSpace(os.Getenv("CAIRN_TOKEN"))}
	fs.StringVar(&target.RESTURL, "rest", "http://localhost:8080", "Cairn's HTTP `URL`: REST and /metrics")
	fs.StringVar(&target.GRPCAddr, "grpc", "localhost:9090", "Cairn's gRPC `address`")
	fs.IntVar(&target.GRPCConns, "grpc-conns", 2, "HTTP/2 connections of the gRPC client")
	fleet := loadtest.DefaultFleet
	fs.IntVar(&fleet.Services, "services", fleet.Services, "services in the fleet")
	fs.StringVar(&fleet.Prefix, "prefix", fleet.Prefix, "prefix of the fleet's service names")
	fs.IntVar(&fleet.Teams, "teams", fleet.Teams, "teams owning the fleet: team-00 and on, each with a namespace on the cluster")
	fs.IntVar(&fleet.DeploymentsPerService, "deployments", fleet.DeploymentsPerService, "deployments each service reports (seed)")
	needToken := func() error {
		if target.Token == "" {
			return errors.New("set CAIRN_TOKEN to a token with the admin role")
		}
		return nil
	}

	switch args[0] {
	case "seed":
		workers := fs.Int("workers", 8, "calls in flight at once")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := needToken(); err != nil {
			return err
		}
		client, err := target.NewClient("grpc")
		if err != nil {
			return err
		}
		defer client.Close()
		logger := slog.New(slog.NewTextHandler(stderr, nil))
		start := time.Now()
		if err := loadtest.Seed(ctx, client, fleet, *workers, start, logger); err != nil {
			return err
		}
		logger.Info("seeded", "took", time.Since(start).Round(time.Second))
		return nil

	case "run":
		m := loadtest.Measurement{Profile: loadtest.Profile{Mix: loadtest.DefaultMix}}
		protocols := fs.String("protocols", "rest,grpc", "protocols to run, one after the other")
		fs.Float64Var(&m.Profile.Rate, "rate", 0, "calls per second, paced (open loop); 0: as fast as -workers allow (closed loop)")
		fs.IntVar(&m.Profile.Workers, "workers", 16, "calls in flight at most")
		fs.DurationVar(&m.Profile.Duration, "duration", 30*time.Second, "how long each protocol is measured")
		fs.DurationVar(&m.Profile.Warmup, "warmup", 5*time.Second, "how long each protocol runs before it is measured")
		fs.Func("mix", "weights of the calls (default "+loadtest.DefaultMix.String()+")", func(s string) error {
			mix, err := loadtest.ParseMix(s)
			m.Profile.Mix = mix
			return err
		})
		fs.StringVar(&m.Profile.Run, "run", randomRun(), "names the services and revisions this run creates")
		fs.IntVar(&target.PID, "pid", 0, "the server's process id, to read its VmRSS; else /metrics is read")
		fs.DurationVar(&m.SampleEvery, "sample-every", 2*time.Second, "how often the server's memory is read")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := needToken(); err != nil {
			return err
		}
		target.RESTConns = m.Profile.Workers
		m.Target, m.Profile.Fleet = target, fleet
		m.Protocols = strings.Split(*protocols, ",")
		_, err := loadtest.Measure(ctx, m, stdout)
		return err

	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// randomRun is a short name of letters and digits, new for each run.
func randomRun() string {
	var b [3]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
