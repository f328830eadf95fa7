package cli

import (
	"context"
	"flag"
	"strings"

	"google.golang.org/protobuf/proto"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

func promotionRequest() command {
	return command{
		name: "request", args: "SERVICE --revision REV", nargs: 1,
		summary: "ask for a revision to be deployed into an environment (production by default); where it needs an approver, one of the team decides; a revision the environment ran before rolls it back",
		define: func(fs *flag.FlagSet) action {
			revision := fs.String("revision", "", "the `revision` to deploy: a tag, branch or commit (required)")
			environment := fs.String("environment", "", "the `environment` to promote into; needed when the service deploys to several that take promotions")
			force := fs.Bool("force", false, "promote a revision the environment before does not run (admins only)")
			requestID := fs.String("request-id", "", "an `ID` of your choosing: the same ID again returns the first call's result")
			return func(ctx context.Context, c *client, args []string) error {
				if *revision == "" {
					return usageErrorf("--revision is required")
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				resp, err := c.api.CreatePromotion(ctx, &cairnv1.CreatePromotionRequest{
					Parent:    serviceName(args[0]),
					Promotion: &cairnv1.Promotion{Revision: *revision, Environment: *environment},
					RequestId: *requestID,
					Force:     *force,
				})
				if err != nil {
					return err
				}
				return c.show(resp, promotionsText([]*cairnv1.Promotion{resp.GetPromotion()}))
			}
		},
	}
}

// promotionDecide is `promotion approve` or `promotion deny`.
func promotionDecide(verb string) command {
	return command{
		name: verb, args: "SERVICE ID", nargs: 2,
		summary: verb + " a pending promotion; ID is the number in the name 'promotion list' shows, or that name",
		define: func(fs *flag.FlagSet) action {
			reason := fs.String("reason", "", "`text` saying why, kept with the promotion")
			return func(ctx context.Context, c *client, args []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				resp, promotion, err := c.decide(ctx, verb, promotionName(args[0], args[1]), *reason)
				if err != nil {
					return err
				}
				return c.show(resp, promotionsText([]*cairnv1.Promotion{promotion}))
			}
		},
	}
}

func (c *client) decide(ctx context.Context, verb, name, reason string) (proto.Message, *cairnv1.Promotion, error) {
	if verb == "approve" {
		resp, err := c.api.ApprovePromotion(ctx, &cairnv1.ApprovePromotionRequest{Name: name, Reason: reason})
		return resp, resp.GetPromotion(), err
	}
	resp, err := c.api.DenyPromotion(ctx, &cairnv1.DenyPromotionRequest{Name: name, Reason: reason})
	return resp, resp.GetPromotion(), err
}

// promotionName accepts the short ID (`3`) or the full name
// (`services/orders/promotions/3`), as JSON output shows it.
func promotionName(service, id string) string {
	if strings.HasPrefix(id, "services/") {
		return id
	}
	return serviceName(service) + "/promotions/" + id
}

func promotionList() command {
	return command{
		name: "list", args: "SERVICE", nargs: 1,
		summary: "list a service's promotions, newest first",
		define: func(fs *flag.FlagSet) action {
			return func(ctx context.Context, c *client, args []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				all, err := c.listPromotions(ctx, serviceName(args[0]))
				if err != nil {
					return err
				}
				return c.show(all, promotionsText(all.GetPromotions()))
			}
		},
	}
}

func environmentList() command {
	return command{
		name: "list", nargs: 0,
		summary: "list the environments of the promotion path, in order",
		define: func(fs *flag.FlagSet) action {
			return func(ctx context.Context, c *client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				resp, err := c.api.ListEnvironments(ctx, &cairnv1.ListEnvironmentsRequest{})
				if err != nil {
					return err
				}
				return c.show(resp, environmentsText(resp.GetEnvironments()))
			}
		},
	}
}

// listPromotions fetches every page into one response.
func (c *client) listPromotions(ctx context.Context, parent string) (*cairnv1.ListPromotionsResponse, error) {
	all := &cairnv1.ListPromotionsResponse{Promotions: []*cairnv1.Promotion{}}
	req := &cairnv1.ListPromotionsRequest{Parent: parent, PageSize: 1000}
	for {
		page, err := c.api.ListPromotions(ctx, req)
		if err != nil {
			return nil, err
		}
		all.Promotions = append(all.Promotions, page.GetPromotions()...)
		if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
			return all, nil
		}
	}
}
