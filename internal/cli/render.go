package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// show prints a response: as text, or as one line of protojson with every
// field present, in the REST facade's field names.
func (c *client) show(m proto.Message, text string) error {
	if c.json {
		b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
		if err != nil {
			return err
		}
		text = string(b) + "\n"
	}
	_, err := io.WriteString(c.out, text)
	return err
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// table renders rows under a header; empty cells become "-" so columns stay
// readable.
func table(header string, rows [][]string) string {
	var b strings.Builder
	tw := newTable(&b)
	fmt.Fprintln(tw, header)
	for _, row := range rows {
		for i, cell := range row {
			row[i] = orDash(cell)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	return b.String()
}

func createText(r *cairnv1.CreateServiceResponse) string {
	var b strings.Builder
	tw := newTable(&b)
	fmt.Fprintf(tw, "service:\t%s\n", r.GetService())
	fmt.Fprintf(tw, "status:\t%s\n", r.GetStatus())
	fmt.Fprintf(tw, "resources:\t%s\n", list(r.GetResources()))
	fmt.Fprintf(tw, "environments:\t%s\n", list(r.GetEnvironments()))
	fmt.Fprintf(tw, "repository:\t%s\n", orDash(r.GetRepository()))
	tw.Flush()
	if len(r.GetObjects()) > 0 {
		var rows [][]string
		for _, obj := range r.GetObjects() {
			rows = append(rows, []string{field(obj, "kind"), field(obj, "metadata", "namespace"), field(obj, "metadata", "name")})
		}
		b.WriteString("\n" + table("KIND\tNAMESPACE\tNAME", rows))
	}
	return b.String()
}

// statusText is a header line, then the deployments and the infrastructure.
func statusText(s *cairnv1.GetServiceStatusResponse) string {
	var b strings.Builder
	stale := "no"
	if s.GetStale() {
		stale = "YES (Cairn's watch on the cluster is broken; this may be out of date)"
	}
	fmt.Fprintf(&b, "service: %s  phase: %s  stale: %s  provisioning: %s\n\n",
		s.GetService(), s.GetPhase(), stale, duration(s.GetProvisioningDuration()))

	if len(s.GetDeployments()) == 0 {
		b.WriteString("no deployments yet\n")
	} else {
		var rows [][]string
		for _, d := range s.GetDeployments() {
			health := d.GetHealthStatus()
			if d.GetAwaitingPromotion() {
				health += " (awaiting promotion)"
			}
			rows = append(rows, []string{d.GetEnvironment(), clusterCell(d.GetCluster(), d.GetStale()), d.GetSyncStatus(), health,
				d.GetRevision(), timestamp(d.GetLastDeployTime())})
		}
		b.WriteString(table("ENVIRONMENT\tCLUSTER\tSYNC\tHEALTH\tREVISION\tLAST DEPLOY", rows))
	}
	b.WriteString("\n")
	if len(s.GetInfrastructure()) == 0 {
		b.WriteString("no infrastructure yet\n")
	} else {
		var rows [][]string
		for _, i := range s.GetInfrastructure() {
			rows = append(rows, []string{i.GetResource(), i.GetKind(), i.GetEnvironment(), clusterCell(i.GetCluster(), i.GetStale()),
				yesNo(i.GetReady()), i.GetReason(), oneLine(i.GetMessage())})
		}
		b.WriteString(table("RESOURCE\tKIND\tENVIRONMENT\tCLUSTER\tREADY\tREASON\tMESSAGE", rows))
	}
	return b.String()
}

// clusterCell names a row's cluster, marked when Cairn's view of it is
// stale.
func clusterCell(cluster string, stale bool) string {
	if stale {
		return cluster + " (stale)"
	}
	return cluster
}

// environmentsText is the promotion path, one environment a row.
func environmentsText(envs []*cairnv1.Environment) string {
	var rows [][]string
	for _, e := range envs {
		from, approval := "", ""
		if p := e.GetPromotion(); p != nil {
			from, approval = p.GetFrom(), yesNo(p.GetApproval())
			if p.GetRequireRunning() {
				from += " (what it runs)"
			}
		}
		rows = append(rows, []string{e.GetName(), e.GetSync(), e.GetRevision(), yesNo(e.GetProduction()), from, approval})
	}
	return table("NAME\tSYNC\tREVISION\tPRODUCTION\tPROMOTED FROM\tAPPROVAL", rows)
}

func promotionsText(promotions []*cairnv1.Promotion) string {
	if len(promotions) == 0 {
		return "no promotions\n"
	}
	var rows [][]string
	for _, p := range promotions {
		revision := p.GetRevision()
		if p.GetRollback() {
			revision += " (rollback)"
		}
		rows = append(rows, []string{p.GetName(), orDash(p.GetEnvironment()), revision, p.GetState(), p.GetRequester(), p.GetDecider()})
	}
	return table("NAME\tENVIRONMENT\tREVISION\tSTATE\tREQUESTER\tDECIDER", rows) + evidenceText(promotions)
}

// evidenceText is the evidence of the promotions that have some, one row
// each under the promotions' table; "" when none has any.
func evidenceText(promotions []*cairnv1.Promotion) string {
	var rows [][]string
	for _, p := range promotions {
		e := p.GetEvidence()
		if e == nil {
			continue
		}
		spent, projected := fmt.Sprintf("%.2f", e.GetTeamSpent()), fmt.Sprintf("%.2f", e.GetTeamProjected())
		if e.GetSpendUnknown() != "" {
			spent, projected = "unknown", "unknown"
		} else if e.GetProjectedOverBudget() {
			projected += " (over)"
		}
		budget := "none"
		if e.TeamBudget != nil {
			budget = fmt.Sprintf("%.2f", e.GetTeamBudget())
		}
		failures := "no deployments"
		if n := e.GetChangeFailureDeployments(); n > 0 {
			failures = fmt.Sprintf("%.0f%% of %d", e.GetChangeFailureRate()*100, n)
		}
		var incidents []string
		for _, name := range e.GetOpenIncidents() {
			incidents = append(incidents, name[strings.LastIndex(name, "/")+1:])
		}
		open := "none"
		if len(incidents) > 0 {
			open = strings.Join(incidents, ", ") + " on " + e.GetRunningRevision()
		}
		rows = append(rows, []string{p.GetName(), fmt.Sprintf("%+.2f %s", e.GetMonthlyCostChange(), e.GetCurrency()),
			spent, projected, budget, failures, open})
	}
	if rows == nil {
		return ""
	}
	return "\nEVIDENCE (team spend this month, projected to its end; change failure rate over 30 days)\n" +
		table("NAME\tCOST/MONTH\tTEAM SPENT\tPROJECTED\tBUDGET\tFAILURE RATE\tOPEN INCIDENTS", rows)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func list(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// oneLine keeps a multi-line condition message from breaking the table.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func duration(d *durationpb.Duration) string {
	if d == nil || d.AsDuration() <= 0 {
		return "-"
	}
	if d.AsDuration() < time.Second {
		return d.AsDuration().Round(time.Millisecond).String()
	}
	return d.AsDuration().Round(time.Second).String()
}

func timestamp(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}

// field reads a string at path in a Kubernetes object.
func field(obj *structpb.Struct, path ...string) string {
	for _, key := range path[:len(path)-1] {
		obj = obj.GetFields()[key].GetStructValue()
	}
	return obj.GetFields()[path[len(path)-1]].GetStringValue()
}
