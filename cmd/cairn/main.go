// Command cairn is the backend of a Backstage developer portal: the service
// catalog, self-service provisioning, cost and platform metrics, served over
// gRPC and REST.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cairn-dev/cairn/internal/cli"
	"github.com/cairn-dev/cairn/server"
)

const usage = `Usage: cairn <command> [flags]

Commands:
  serve        serve the gRPC API and the REST gateway (cairn serve --help lists settings)
  migrate      apply the store's schema migrations and exit (takes the same settings)
  service      create a service's infrastructure, or show its status (cairn service help)
  promotion    request, approve, deny or list promotions along the path (cairn promotion help)
  environment  list the environments of the promotion path (cairn environment help)
  cost         import FinOps FOCUS billing files, list daily cost anomalies (cairn cost help)
  template     show each golden-path template's ledger (cairn template help)
  deployment   list the deployments behind the DORA figures (cairn deployment help)
  incident     list incidents and the deployments they are charged to, or correct a charge (cairn incident help)
  help         show this text
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(cli.ExitCode(err))
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve", "migrate":
		cfg, err := server.LoadConfig(args[1:], os.Getenv, stderr)
		if err != nil {
			return err
		}
		logger := server.NewLogger(cfg, stderr)
		if args[0] == "migrate" {
			return server.Migrate(ctx, cfg, logger)
		}
		return server.Run(ctx, cfg, logger)
	case "service", "promotion", "environment", "cost", "template", "deployment", "incident":
		return cli.Run(ctx, args, stdout, stderr, os.Getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
