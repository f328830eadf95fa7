package main

// The operator commands end to end: the built cairn binary run as a
// subprocess against a Cairn serving a real kube-apiserver, as an operator
// runs it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cairn-dev/cairn/internal/testenv/kubetest"
	"github.com/cairn-dev/cairn/server/kube/manifest"
)

type cliResult struct {
	stdout, stderr string
	code           int
}

// cliCommand is the cairn binary with args, calling the Cairn at grpcAddr
// with token, which it takes from CAIRN_TOKEN as operators are told to.
func cliCommand(ctx context.Context, grpcAddr, token string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, cairnBinary, args...)
	cmd.Env = append(os.Environ(), "CAIRN_SERVER="+grpcAddr, "CAIRN_TOKEN="+token)
	return cmd
}

// runCLI runs the binary to its end and checks that it never prints the
// token.
func runCLI(t *testing.T, grpcAddr, token string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := cliCommand(ctx, grpcAddr, token, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err)
	}
	r := cliResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	require.NotContains(t, r.stdout+r.stderr, token, "the token was printed")
	return r
}

func TestCLIProvisionsFollowsAndPromotesAService(t *testing.T) {
	env := kubetest.Start(t)
	env.CreateNamespace(t, "team-orders")
	p := launchCairnWithConfig(t, engines[0].storeURL(t), provisioningConfig(t), "--kubeconfig", env.Kubeconfig(t))
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	addr := p.grpcAddr

	r := runCLI(t, addr, ordersDeveloperToken, "service", "create", "orders-cli", "--owner", "group:default/team-orders",
		"--template", "node-microservice", "--database", "postgresql", "--database-size", "small", "--bucket",
		"--env", "staging", "--env", "production", "--repository", "https://github.com/company/orders-cli.git",
		"--request-id", "cli-task-1")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "status:        provisioning\n")
	require.Contains(t, r.stdout, "resources:     database:postgresql, bucket\n")

	require.Eventually(t, func() bool {
		r = runCLI(t, addr, ordersDeveloperToken, "service", "status", "orders-cli")
		// The claims and Applications are applied one after the other:
		// wait for both tables.
		return r.code == 0 && strings.Contains(r.stdout, "phase: provisioning") &&
			strings.Contains(r.stdout, "orders-cli-db") && strings.Contains(r.stdout, "ENVIRONMENT  CLUSTER  SYNC")
	}, 60*time.Second, 250*time.Millisecond, "status did not show the applied objects: %+v", r)
	require.Contains(t, r.stdout, "service: orders-cli  phase: provisioning  stale: no")
	require.Regexp(t, `production +default +\S+ +\S+ \(awaiting promotion\)`, r.stdout)
	require.Regexp(t, `orders-cli-db +DatabaseClaim +- +default +no`, r.stdout)

	r = runCLI(t, addr, ordersDeveloperToken, "environment", "list")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `staging +automatic +main +no +- +-\n`, r.stdout)
	require.Regexp(t, `production +promotion +release +yes +staging +yes\n`, r.stdout)

	t.Run("FollowSeesTheServiceBecomeReady", func(t *testing.T) {
		follow := cliCommand(context.Background(), addr, ordersDeveloperToken, "service", "status", "orders-cli", "--follow", "--output", "json")
		stdout, stdoutWriter := io.Pipe()
		var stderr bytes.Buffer
		follow.Stdout, follow.Stderr = stdoutWriter, &stderr
		require.NoError(t, follow.Start())
		var waitErr error
		exited := make(chan struct{})
		go func() {
			waitErr = follow.Wait()
			stdoutWriter.Close()
			close(exited)
		}()
		t.Cleanup(func() {
			stdout.Close() // unblocks the copy of output nobody reads any more
			follow.Process.Kill()
			<-exited
		})
		phases := make(chan string, 100)
		go func() {
			defer close(phases)
			lines := bufio.NewScanner(stdout)
			for lines.Scan() {
				var status struct{ Phase string }
				if json.Unmarshal(lines.Bytes(), &status) == nil {
					phases <- status.Phase
				}
			}
		}()
		require.Equal(t, "provisioning", nextPhase(t, phases), "the first line is the status now")

		plan := servicePlan("orders-cli")
		env.MarkClaimReady(t, manifest.DatabaseClaim(plan, manifest.DefaultSettings()))
		env.MarkClaimReady(t, manifest.BucketClaim(plan, manifest.DefaultSettings()))
		env.MarkApplicationSynced(t, "orders-cli-staging", "abc123")
		for phase := ""; phase != "ready"; {
			phase = nextPhase(t, phases)
		}

		require.NoError(t, follow.Process.Signal(os.Interrupt))
		select {
		case <-exited:
			require.NoError(t, waitErr, "an interrupted --follow exits 0; stderr: %s", stderr.String())
		case <-time.After(10 * time.Second):
			t.Fatal("--follow did not stop on SIGINT")
		}
	})

	t.Run("APromotionIsDecidedByAnotherApprover", func(t *testing.T) {
		r := runCLI(t, addr, ordersDeveloperToken, "promotion", "request", "orders-cli", "--revision", "v1.2.3",
			"--request-id", "cli-promote-1", "--output", "json")
		require.Equal(t, 0, r.code, r.stderr)
		var created struct{ Promotion struct{ Name, State string } }
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &created), r.stdout)
		require.Equal(t, "pending", created.Promotion.State)
		id := created.Promotion.Name[strings.LastIndex(created.Promotion.Name, "/")+1:]

		own := runCLI(t, addr, ordersDeveloperToken, "promotion", "approve", "orders-cli", id)
		require.Equal(t, 1, own.code, own.stdout)
		require.Contains(t, own.stderr, "a promotion is decided by someone other than its requester")
		require.Contains(t, own.stderr, "code PermissionDenied, reason OWN_REQUEST")

		approved := runCLI(t, addr, ordersApproverToken, "promotion", "approve", "orders-cli", id, "--reason", "release notes reviewed")
		require.Equal(t, 0, approved.code, approved.stderr)
		require.Regexp(t, `services/orders-cli/promotions/`+id+` +production +v1\.2\.3 +approved +orders-developer +orders-approver`, approved.stdout)

		list := runCLI(t, addr, ordersDeveloperToken, "promotion", "list", "orders-cli")
		require.Equal(t, 0, list.code, list.stderr)
		require.Contains(t, list.stdout, "approved")
	})

	t.Run("AUsageErrorExits2", func(t *testing.T) {
		r := runCLI(t, addr, ordersDeveloperToken, "service", "create", "orders-cli")
		require.Equal(t, 2, r.code)
		require.Contains(t, r.stderr, "Usage: cairn service create NAME --owner TEAM")
		require.Contains(t, r.stderr, "cairn: --owner is required")
	})
}

// nextPhase waits for the next status --follow prints.
func nextPhase(t *testing.T, phases <-chan string) string {
	t.Helper()
	select {
	case phase, ok := <-phases:
		require.True(t, ok, "--follow ended its output")
		return phase
	case <-time.After(60 * time.Second):
		t.Fatal("--follow printed no status for 60s")
		return ""
	}
}
