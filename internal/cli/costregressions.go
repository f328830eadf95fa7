package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

func costRegressions() command {
	return command{
		name: "regressions", args: "SERVICE|--team TEAM", nargs: 1, optionalArg: true,
		summary: "list a service's or a team's production changes of the last 30 days with their cost verdicts, newest first",
		define: func(fs *flag.FlagSet) action {
			team := fs.String("team", "", "list the changes of this `team`'s services instead of one service")
			only := fs.Bool("regressions-only", false, "list only the changes judged cost regressions")
			return func(ctx context.Context, c *client, args []string) error {
				var parent string
				switch {
				case *team != "" && len(args) > 0:
					return usageErrorf("give a SERVICE or --team, not both")
				case *team != "":
					parent = "teams/" + strings.TrimPrefix(*team, "teams/")
				case len(args) == 1:
					parent = serviceName(args[0])
				default:
					return usageErrorf("give a SERVICE or --team TEAM")
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				all, err := c.listCostRegressions(ctx, &cairnv1.ListCostRegressionsRequest{Parent: parent, RegressionsOnly: *only})
				if err != nil {
					return err
				}
				return c.show(all, costRegressionsText(all))
			}
		},
	}
}

// listCostRegressions fetches every page into one response.
func (c *client) listCostRegressions(ctx context.Context, req *cairnv1.ListCostRegressionsRequest) (*cairnv1.ListCostRegressionsResponse, error) {
	costs := cairnv1.NewCostServiceClient(c.conn)
	req.PageSize = 1000
	var all *cairnv1.ListCostRegressionsResponse
	for {
		page, err := costs.ListCostRegressions(ctx, req)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = page
		} else {
			all.Changes = append(all.Changes, page.GetChanges()...)
		}
		if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
			all.NextPageToken = ""
			return all, nil
		}
	}
}

// costRegressionsText is a table of the changes, then what they were
// judged by.
func costRegressionsText(r *cairnv1.ListCostRegressionsResponse) string {
	var rows [][]string
	for _, ch := range r.GetChanges() {
		verdict := ch.GetVerdict()
		if ch.GetPendingReason() != "" {
			verdict += " (" + ch.GetPendingReason() + ")"
		}
		growth, monthly := "", ""
		if ch.GrowthPercent != nil {
			growth = fmt.Sprintf("%+.1f%%", ch.GetGrowthPercent())
		}
		if ch.MonthlyChange != nil {
			monthly = fmt.Sprintf("%+.2f %s", ch.GetMonthlyChange(), r.GetCurrency())
		}
		rows = append(rows, []string{
			ch.GetChangeTime().AsTime().UTC().Format(time.DateOnly), ch.GetServiceName(), ch.GetKind(),
			ch.GetRevision(), verdict, growth, monthly,
		})
	}
	return table("DATE\tSERVICE\tKIND\tREVISION\tVERDICT\tGROWTH\tPER MONTH", rows) +
		fmt.Sprintf("\n%d days each side of a change; a regression grows more than %g%% and more than %.2f %s a month\n",
			r.GetWindowDays(), r.GetThresholdPercent(), r.GetFloorMonthly(), r.GetCurrency())
}
