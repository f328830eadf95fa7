package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// drillDownFlags are what `deployment list` and `incident list` share: whose
// events, a time range, and how many rows.
type drillDownFlags struct {
	team         *string
	since, until *string
	limit        *int
}

func defineDrillDown(fs *flag.FlagSet, what string) drillDownFlags {
	return drillDownFlags{
		team:  fs.String("team", "", "list the "+what+" of this `team`'s services instead of one service's"),
		since: fs.String("since", "", "only "+what+" at or after this `time` (RFC 3339); default 30 days before --until"),
		until: fs.String("until", "", "only "+what+" before this `time` (RFC 3339); default now"),
		limit: fs.Int("limit", 50, "show at most this many `rows`, newest first"),
	}
}

// parent is `services/{service}` or `teams/{team}`, from the one of the
// argument and --team given.
func (f drillDownFlags) parent(args []string) (string, error) {
	switch {
	case len(args) == 1 && *f.team == "":
		return serviceName(args[0]), nil
	case len(args) == 0 && *f.team != "":
		return "teams/" + strings.TrimPrefix(*f.team, "teams/"), nil
	}
	return "", usageErrorf("give a SERVICE or --team TEAM, not both")
}

// timeRange parses --since and --until; unset ends are nil.
func (f drillDownFlags) timeRange() (since, until *timestamppb.Timestamp, err error) {
	parse := func(name, value string) (*timestamppb.Timestamp, error) {
		if value == "" {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339, value)
		if err != nil {
			return nil, usageErrorf("--%s must be an RFC 3339 time such as 2026-11-01T00:00:00Z, not %q", name, value)
		}
		return timestamppb.New(t), nil
	}
	if since, err = parse("since", *f.since); err != nil {
		return nil, nil, err
	}
	until, err = parse("until", *f.until)
	return since, until, err
}

func (f drillDownFlags) checkLimit() error {
	if *f.limit < 1 {
		return usageErrorf("--limit must be at least 1")
	}
	return nil
}

func deploymentList() command {
	return command{
		name: "list", args: "SERVICE|--team TEAM", nargs: 1, optionalArg: true,
		summary: "list the deployments behind the DORA figures, newest first, with their commits' lead times and the incidents charged to them",
		define: func(fs *flag.FlagSet) action {
			common := defineDrillDown(fs, "deployments")
			environment := fs.String("environment", "", "only deployments to this `environment`")
			status := fs.String("status", "", "only deployments of this `status`: succeeded or failed")
			return func(ctx context.Context, c *client, args []string) error {
				parent, err := common.parent(args)
				if err != nil {
					return err
				}
				since, until, err := common.timeRange()
				if err != nil {
					return err
				}
				if err := common.checkLimit(); err != nil {
					return err
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				metrics := cairnv1.NewMetricsServiceClient(c.conn)
				all := &cairnv1.ListDeploymentsResponse{Deployments: []*cairnv1.DeploymentRecord{}}
				req := &cairnv1.ListDeploymentsRequest{
					Parent: parent, Environment: *environment, Status: *status, FinishedAfter: since, FinishedBefore: until,
					PageSize: int32(min(*common.limit, 100)),
				}
				for len(all.Deployments) < *common.limit {
					page, err := metrics.ListDeployments(ctx, req)
					if err != nil {
						return err
					}
					all.Deployments = append(all.Deployments, page.GetDeployments()...)
					if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
						break
					}
				}
				all.Deployments = all.Deployments[:min(len(all.Deployments), *common.limit)]
				return c.show(all, deploymentsText(all.GetDeployments()))
			}
		},
	}
}

func incidentList() command {
	return command{
		name: "list", args: "SERVICE|--team TEAM", nargs: 1, optionalArg: true,
		summary: "list incidents, newest first, with the deployment each is charged to and how (named, inferred, corrected)",
		define: func(fs *flag.FlagSet) action {
			common := defineDrillDown(fs, "incidents")
			state := fs.String("state", "", "only incidents in this `state`: open or resolved")
			return func(ctx context.Context, c *client, args []string) error {
				parent, err := common.parent(args)
				if err != nil {
					return err
				}
				since, until, err := common.timeRange()
				if err != nil {
					return err
				}
				if err := common.checkLimit(); err != nil {
					return err
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				metrics := cairnv1.NewMetricsServiceClient(c.conn)
				all := &cairnv1.ListIncidentsResponse{Incidents: []*cairnv1.IncidentRecord{}}
				req := &cairnv1.ListIncidentsRequest{
					Parent: parent, State: *state, OpenedAfter: since, OpenedBefore: until, PageSize: int32(min(*common.limit, 100)),
				}
				for len(all.Incidents) < *common.limit {
					page, err := metrics.ListIncidents(ctx, req)
					if err != nil {
						return err
					}
					all.Incidents = append(all.Incidents, page.GetIncidents()...)
					if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
						break
					}
				}
				all.Incidents = all.Incidents[:min(len(all.Incidents), *common.limit)]
				return c.show(all, incidentsText(all.GetIncidents()))
			}
		},
	}
}

func incidentLink() command {
	return command{
		name: "link", args: "SERVICE ID --revision REV|--none", nargs: 2,
		summary: "correct the deployment an incident is charged to: the last production deployment of a revision, or none; the change failure rate follows",
		define: func(fs *flag.FlagSet) action {
			revision := fs.String("revision", "", "charge the incident to the last production deployment of this `revision`")
			none := fs.Bool("none", false, "charge the incident to no deployment")
			return func(ctx context.Context, c *client, args []string) error {
				if (*revision == "") == !*none {
					return usageErrorf("give one of --revision REV and --none")
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				resp, err := cairnv1.NewMetricsServiceClient(c.conn).LinkIncident(ctx, &cairnv1.LinkIncidentRequest{
					Name: incidentName(args[0], args[1]), Revision: *revision,
				})
				if err != nil {
					return err
				}
				return c.show(resp, incidentsText([]*cairnv1.IncidentRecord{resp.GetIncident()}))
			}
		},
	}
}

// incidentName accepts the incident tool's id (`INC-1042`) or the full
// name (`services/orders/incidents/INC-1042`), as JSON output shows it.
func incidentName(service, id string) string {
	if strings.HasPrefix(id, "services/") {
		return id
	}
	return serviceName(service) + "/incidents/" + id
}

func deploymentsText(deployments []*cairnv1.DeploymentRecord) string {
	if len(deployments) == 0 {
		return "no deployments\n"
	}
	var rows [][]string
	for _, d := range deployments {
		leadTimes := make([]string, len(d.GetCommits()))
		for i, c := range d.GetCommits() {
			leadTimes[i] = duration(c.GetLeadTime())
		}
		incidents := make([]string, len(d.GetIncidents()))
		for i, inc := range d.GetIncidents() {
			incidents[i] = inc.GetId() + " (" + orDash(inc.GetLink()) + ")"
		}
		rows = append(rows, []string{
			timestamp(d.GetFinishedAt()), d.GetService(), d.GetEnvironment(), d.GetRevision(), d.GetStatus(),
			yesNo(d.GetProduction()), list(leadTimes), list(incidents),
		})
	}
	return table("FINISHED\tSERVICE\tENVIRONMENT\tREVISION\tSTATUS\tPRODUCTION\tLEAD TIMES\tINCIDENTS", rows)
}

func incidentsText(incidents []*cairnv1.IncidentRecord) string {
	if len(incidents) == 0 {
		return "no incidents\n"
	}
	var rows [][]string
	for _, i := range incidents {
		charged := "-"
		if d := i.GetDeployment(); d != nil {
			charged = fmt.Sprintf("%s in %s, finished %s (%s before)", d.GetRevision(), d.GetEnvironment(), timestamp(d.GetFinishedAt()),
				duration(durationpb.New(i.GetOpenedAt().AsTime().Sub(d.GetFinishedAt().AsTime()))))
		}
		rows = append(rows, []string{
			i.GetName(), timestamp(i.GetOpenedAt()), orDash(timestamp(i.GetResolvedAt())), orDash(i.GetLink()), charged,
		})
	}
	return table("NAME\tOPENED\tRESOLVED\tLINK\tCHARGED TO", rows)
}
