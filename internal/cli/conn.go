package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// client is what a command calls Cairn with and prints through.
type client struct {
	api     cairnv1.ProvisioningServiceClient
	conn    *grpc.ClientConn
	out     io.Writer
	json    bool
	timeout time.Duration
}

// client checks the common flags and returns a client for them. It does
// not connect: gRPC does on the first call.
func (o *options) client(out io.Writer) (*client, error) {
	if o.output != "text" && o.output != "json" {
		return nil, usageErrorf("--output must be text or json, not %q", o.output)
	}
	if o.timeout < 0 {
		return nil, usageErrorf("--timeout must not be negative")
	}
	creds, err := o.transport()
	if err != nil {
		return nil, err
	}
	dialOpts := []grpc.DialOption{grpc.WithTransportCredentials(creds), grpc.WithUserAgent("cairn-cli")}
	if token := o.bearerToken(); token != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(bearer{token: token}))
	}
	conn, err := grpc.NewClient(o.server, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("server %q: %w", o.server, err)
	}
	return &client{
		api: cairnv1.NewProvisioningServiceClient(conn), conn: conn,
		out: out, json: o.output == "json", timeout: o.timeout,
	}, nil
}

func (o *options) transport() (credentials.TransportCredentials, error) {
	if !o.tls && o.caFile == "" {
		return insecure.NewCredentials(), nil
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca-file: %w", err)
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca-file: no PEM certificate in %s", o.caFile)
		}
	}
	return credentials.NewTLS(config), nil
}

func (c *client) close() { c.conn.Close() }

// call is the context of one unary call: --timeout bounds it.
func (c *client) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout == 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// bearer sends the token with every call.
type bearer struct{ token string }

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity is false so that plaintext to a local or
// in-cluster Cairn works, as with grpcurl -plaintext.
func (bearer) RequireTransportSecurity() bool { return false }

// String keeps the token out of anything that prints a bearer.
func (bearer) String() string { return "bearer(redacted)" }
