package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"strconv"
	"strings"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

func serviceCreate() command {
	return command{
		name: "create", args: "NAME --owner TEAM", nargs: 1,
		summary: "record a service and the infrastructure it needs; Cairn's reconciler applies it",
		define: func(fs *flag.FlagSet) action {
			req := &cairnv1.CreateServiceRequest{}
			fs.StringVar(&req.Owner, "owner", "", "owning `team`, or a Backstage reference such as group:default/team-orders (required)")
			fs.StringVar(&req.Template, "template", "", "golden-path template the service was made from, by `name`")
			fs.StringVar(&req.Database, "database", "", "database `engine`: postgresql, mysql, redis, mongodb or none")
			fs.StringVar(&req.DatabaseSize, "database-size", "", "database `size`: small, medium or large")
			fs.BoolVar(&req.Bucket, "bucket", false, "give the service an object storage bucket")
			fs.Var((*stringList)(&req.Environments), "env", "`environment` to deploy to, staging or production; repeat for both")
			fs.StringVar(&req.RepositoryUrl, "repository", "", "the service's Git repository `URL`")
			fs.Func("replicas", "`N` replicas in production", func(s string) error {
				n, err := strconv.ParseInt(s, 10, 32)
				req.ReplicaCount = int32(n)
				return err
			})
			fs.StringVar(&req.RequestId, "request-id", "", "an `ID` of your choosing: the same ID again returns the first call's result")
			fs.BoolVar(&req.ValidateOnly, "validate-only", false, "check the request and show the objects it would apply, changing nothing")
			return func(ctx context.Context, c *client, args []string) error {
				if req.Owner == "" {
					return usageErrorf("--owner is required")
				}
				req.Name = strings.TrimPrefix(args[0], "services/")
				ctx, cancel := c.call(ctx)
				defer cancel()
				resp, err := c.api.CreateService(ctx, req)
				if err != nil {
					return err
				}
				return c.show(resp, createText(resp))
			}
		},
	}
}

// serviceName is a service's resource name from its short name, or from
// the resource name itself, which JSON output shows.
func serviceName(arg string) string {
	return "services/" + strings.TrimPrefix(arg, "services/")
}

func serviceStatus() command {
	return command{
		name: "status", args: "NAME", nargs: 1,
		summary: "show a service's deployments and infrastructure as last seen on the cluster",
		define: func(fs *flag.FlagSet) action {
			follow := fs.Bool("follow", false, "print the status again after every change, until interrupted")
			return func(ctx context.Context, c *client, args []string) error {
				name := serviceName(args[0])
				if *follow {
					return c.follow(ctx, name)
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				resp, err := c.api.GetServiceStatus(ctx, &cairnv1.GetServiceStatusRequest{Name: name})
				if err != nil {
					return err
				}
				return c.show(resp, statusText(resp))
			}
		},
	}
}

// follow prints each status WatchServiceStatus sends, until ctx ends (the
// user interrupts) or the server ends the stream. In JSON each line is a
// status, the same object `service status` prints, so one parser reads both.
func (c *client) follow(ctx context.Context, name string) error {
	stream, err := c.api.WatchServiceStatus(ctx, &cairnv1.WatchServiceStatusRequest{Name: name})
	if err != nil {
		return err
	}
	for first := true; ; first = false {
		msg, err := stream.Recv()
		switch {
		case ctx.Err() != nil:
			return nil // interrupted: how --follow is meant to end
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		text := statusText(msg.GetStatus())
		if !first {
			text = "\n" + text
		}
		if err := c.show(msg.GetStatus(), text); err != nil {
			return err
		}
	}
}
