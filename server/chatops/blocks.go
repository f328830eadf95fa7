package chatops

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// Action IDs of the buttons Cairn's messages carry.
const (
	actionApprove = "cairn_approve_promotion"
	actionDeny    = "cairn_deny_promotion"
	actionStatus  = "cairn_service_status"
)

// escape makes text safe inside Slack's mrkdwn: what callers wrote (a
// revision, a message) can then mention nobody and link nowhere.
func escape(text string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
}

func markdown(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

func plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

func section(text string) slack.Block { return slack.NewSectionBlock(markdown(text), nil, nil) }

// message is a reply of blocks, with text as its notification's words.
func message(responseType, text string, blocks ...slack.Block) *slack.Msg {
	return &slack.Msg{ResponseType: responseType, Text: text, Blocks: slack.Blocks{BlockSet: blocks}}
}

// ephemeral is a reply only its requester sees.
func ephemeral(text string) *slack.Msg {
	return message(slack.ResponseTypeEphemeral, text, section(escape(text)))
}

func notLinked(slackUser string) *slack.Msg {
	text := fmt.Sprintf("Your Slack user (%s) is not linked to a Cairn user, so Cairn did nothing. "+
		"Ask your platform team to add it to slack.users, or to your Backstage user entity as its slack.com/user_id annotation.", slackUser)
	return ephemeral(text)
}

// cannotLookUp says the catalog could not be asked who the Slack user is.
func cannotLookUp(err error) *slack.Msg {
	return ephemeral("Cairn cannot look you up in the Backstage catalog now, so it did nothing: try again in a moment. (" + err.Error() + ")")
}

// refused tells the requester why Cairn refused what they asked: its
// message, reason and each field violation, as the API says them.
func refused(what string, err error) *slack.Msg {
	st := status.Convert(err)
	text := fmt.Sprintf("Cairn refused to %s: %s", what, st.Message())
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			text += fmt.Sprintf(" (%s)", d.GetReason())
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				text += fmt.Sprintf("\n• %s: %s", v.GetField(), v.GetDescription())
			}
		}
	}
	return ephemeral(text)
}

const usage = "*/platform* commands:\n" +
	"• `/platform create-service NAME --team TEAM --template TEMPLATE [--db postgresql|mysql|redis|mongodb] [--db-size small|medium|large] [--bucket] [--env ENV]... [--repo URL]`\n" +
	"• `/platform status NAME`\n" +
	"• `/platform promote NAME --revision REV [--environment ENV]`\n" +
	"• `/platform help`"

func helpMessage(problem string) *slack.Msg {
	text := usage
	if problem != "" {
		text = escape(problem) + "\n\n" + usage
	}
	return message(slack.ResponseTypeEphemeral, "How to use /platform", section(text))
}

// createdMessage is what a create-service made, with a link to the
// service's page and a button for its status.
func (h *Handler) createdMessage(r *cairnv1.CreateServiceResponse) *slack.Msg {
	text := fmt.Sprintf("Service *%s* is %s.\nEnvironments: %s\nResources: %s\nRepository: %s",
		escape(r.GetService()), escape(r.GetStatus()), escape(listOr(r.GetEnvironments(), "none")),
		escape(listOr(r.GetResources(), "none")), escape(r.GetRepository()))
	buttons := []slack.BlockElement{
		slack.NewButtonBlockElement(actionStatus, r.GetService(), plain("Check status")),
	}
	if h.cfg.BackstageURL != "" {
		link := slack.NewButtonBlockElement("", "", plain("View in Backstage"))
		link.URL = strings.TrimSuffix(h.cfg.BackstageURL, "/") + "/catalog/default/component/" + r.GetService()
		buttons = append(buttons, link)
	}
	return message(slack.ResponseTypeEphemeral, "Service "+r.GetService()+" is "+r.GetStatus(),
		section(text), slack.NewActionBlock("cairn_service", buttons...))
}

// statusMessage is a service's status: its phase, each environment and
// each claim.
func statusMessage(s *cairnv1.GetServiceStatusResponse) *slack.Msg {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* is *%s*", escape(s.GetService()), escape(s.GetPhase()))
	if s.GetStale() {
		b.WriteString(" (Cairn's view of a cluster is stale: this may be out of date)")
	}
	for _, d := range s.GetDeployments() {
		health := d.GetHealthStatus()
		if d.GetAwaitingPromotion() {
			health = "awaiting promotion"
		}
		fmt.Fprintf(&b, "\n• %s: %s, %s", escape(d.GetEnvironment()), escape(d.GetSyncStatus()), escape(health))
		if d.GetRevision() != "" {
			fmt.Fprintf(&b, " at `%s`", escape(d.GetRevision()))
		}
	}
	for _, c := range s.GetInfrastructure() {
		ready := "ready"
		if !c.GetReady() {
			ready = "not ready: " + cmp.Or(c.GetReason(), "waiting")
		}
		fmt.Fprintf(&b, "\n• %s %s: %s", escape(c.GetKind()), escape(c.GetResource()), escape(ready))
	}
	return message(slack.ResponseTypeEphemeral, s.GetService()+" is "+s.GetPhase(), section(b.String()))
}

// promotionText says what a promotion deploys where, and who asked.
func promotionText(p *cairnv1.Promotion) string {
	what := fmt.Sprintf("`%s` into *%s*", escape(p.GetRevision()), escape(p.GetEnvironment()))
	if p.GetRollback() {
		what = fmt.Sprintf("rollback of *%s* to `%s`, a revision it ran before", escape(p.GetEnvironment()), escape(p.GetRevision()))
	}
	service, _, _ := strings.Cut(strings.TrimPrefix(p.GetName(), "services/"), "/")
	return fmt.Sprintf("*Promotion of %s*: %s\nRequested by %s", escape(service), what, escape(p.GetRequester()))
}

// evidenceText is what Cairn computed of a promotion's money and risk
// when it was requested, a line each, after a line break; "" for a
// promotion without the field, as a Cairn before evidence answers.
func evidenceText(p *cairnv1.Promotion) string {
	e := p.GetEvidence()
	if e == nil {
		if p.GetEvidenceMissing() == "" {
			return ""
		}
		return "\n_No evidence: " + escape(p.GetEvidenceMissing()) + "._"
	}
	currency := escape(e.GetCurrency())
	var b strings.Builder
	fmt.Fprintf(&b, "\n*Cost*: %+.2f %s a month (%s)", e.GetMonthlyCostChange(), currency, escape(e.GetCostChangeBasis()))
	switch {
	case e.GetSpendUnknown() != "":
		fmt.Fprintf(&b, "\n*Team this month*: unknown: %s", escape(e.GetSpendUnknown()))
	default:
		fmt.Fprintf(&b, "\n*Team this month*: %.2f %s spent, %.2f projected", e.GetTeamSpent(), currency, e.GetTeamProjected())
		if e.TeamBudget != nil {
			fmt.Fprintf(&b, " of a %.2f budget", e.GetTeamBudget())
			if e.GetProjectedOverBudget() {
				b.WriteString(": *over budget*")
			}
		} else {
			fmt.Fprintf(&b, " (%s)", escape(e.GetBudgetNote()))
		}
	}
	if n := e.GetChangeFailureDeployments(); n > 0 {
		fmt.Fprintf(&b, "\n*Change failure rate*: %.0f%% of %d deployments in 30 days (%s)", e.GetChangeFailureRate()*100, n, escape(e.GetChangeFailureBand()))
	} else {
		b.WriteString("\n*Change failure rate*: no deployments in 30 days")
	}
	if len(e.GetOpenIncidents()) > 0 {
		var ids []string
		for _, name := range e.GetOpenIncidents() {
			ids = append(ids, escape(name[strings.LastIndex(name, "/")+1:]))
		}
		fmt.Fprintf(&b, "\n*Open incidents* on `%s`: %s", escape(e.GetRunningRevision()), strings.Join(ids, ", "))
	}
	return b.String()
}

// pendingMessage is a promotion waiting for an approver, for the channel,
// with Approve and Deny buttons.
func pendingMessage(p *cairnv1.Promotion) *slack.Msg {
	approve := slack.NewButtonBlockElement(actionApprove, p.GetName(), plain("Approve")).WithStyle(slack.StylePrimary)
	deny := slack.NewButtonBlockElement(actionDeny, p.GetName(), plain("Deny")).WithStyle(slack.StyleDanger)
	return message(slack.ResponseTypeInChannel, "Promotion waiting for an approver: "+p.GetName(),
		section(promotionText(p)+evidenceText(p)+"\nAn approver of the team, other than the requester, decides."),
		slack.NewActionBlock("cairn_promotion", approve, deny))
}

// decidedMessage replaces a promotion's message once it is decided or,
// approved at once, is being synced.
func decidedMessage(p *cairnv1.Promotion, responseType string) *slack.Msg {
	text := promotionText(p) + evidenceText(p)
	switch p.GetState() {
	case "approved":
		text += fmt.Sprintf("\n*Approved* by %s: syncing %s.", escape(p.GetDecider()), escape(p.GetEnvironment()))
	case "denied":
		text += fmt.Sprintf("\n*Denied* by %s.", escape(p.GetDecider()))
	}
	if p.GetReason() != "" {
		text += "\nReason: " + escape(p.GetReason())
	}
	return message(responseType, p.GetName()+" is "+p.GetState(), section(text))
}

func listOr(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}
