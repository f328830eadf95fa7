package chatops

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/auth"
)

// command is a /platform command line: its action, its positional
// arguments and its options (each --option VALUE, or --flag alone).
type command struct {
	action  string
	args    []string
	options map[string][]string
}

// Options of /platform, and which of them take no value.
var (
	knownOptions = []string{"name", "team", "template", "db", "db-size", "bucket", "env", "repo", "revision", "environment"}
	flagOptions  = []string{"bucket"}
)

// maxWords bounds a command line.
const maxWords = 64

// parseCommand reads a /platform command line, as the seed's ChatOps
// bot took it: `create-service orders-service --team orders ...`.
func parseCommand(text string) (command, error) {
	words := strings.Fields(text)
	if len(words) == 0 {
		return command{action: "help"}, nil
	}
	if len(words) > maxWords {
		return command{}, fmt.Errorf("the command has more than %d words", maxWords)
	}
	c := command{action: words[0], options: map[string][]string{}}
	for i := 1; i < len(words); i++ {
		word := words[i]
		name, isOption := strings.CutPrefix(word, "--")
		if !isOption {
			c.args = append(c.args, word)
			continue
		}
		name, value, hasValue := strings.Cut(name, "=")
		if !slices.Contains(knownOptions, name) {
			return command{}, fmt.Errorf("unknown option --%s", name)
		}
		switch {
		case slices.Contains(flagOptions, name):
			value = "true"
		case hasValue:
		case i+1 < len(words) && !strings.HasPrefix(words[i+1], "--"):
			i++
			value = words[i]
		default:
			return command{}, fmt.Errorf("--%s needs a value", name)
		}
		c.options[name] = append(c.options[name], value)
	}
	return c, nil
}

// option is the last value given for name, "" for none.
func (c command) option(name string) string {
	values := c.options[name]
	if len(values) == 0 {
		return ""
	}
	return values[len(values)-1]
}

// name is the service the command is about: --name, else its first
// argument.
func (c command) name() string {
	if n := c.option("name"); n != "" {
		return n
	}
	if len(c.args) > 0 {
		return c.args[0]
	}
	return ""
}

// serveCommand serves the /platform slash command.
func (h *Handler) serveCommand(w http.ResponseWriter, r *http.Request) {
	body, ok := h.verified(w, r, endpointCommands)
	if !ok {
		return
	}
	parse := r.Clone(r.Context())
	parse.Body, parse.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	slash, err := slack.SlashCommandParse(parse)
	if err != nil {
		h.count(endpointCommands, outcomeBadRequest)
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	principal, err := h.principal(r.Context(), slash.UserID)
	switch {
	case err != nil:
		h.count(endpointCommands, outcomeUnmapped)
		writeMessage(w, cannotLookUp(err))
		return
	case principal == nil:
		h.count(endpointCommands, outcomeUnmapped)
		writeMessage(w, notLinked(slash.UserID))
		return
	}
	c, err := parseCommand(slash.Text)
	if err != nil {
		h.count(endpointCommands, outcomeAccepted)
		writeMessage(w, helpMessage(err.Error()))
		return
	}
	var work func(ctx context.Context) *slack.Msg
	switch c.action {
	case "create-service":
		work = func(ctx context.Context) *slack.Msg { return h.createService(h.api.As(ctx, principal), c, slash) }
	case "status":
		work = func(ctx context.Context) *slack.Msg { return h.status(h.api.As(ctx, principal), c.name()) }
	case "promote":
		work = func(ctx context.Context) *slack.Msg { return h.promote(h.api.As(ctx, principal), c, slash) }
	case "help":
		h.count(endpointCommands, outcomeAccepted)
		writeMessage(w, helpMessage(""))
		return
	default:
		h.count(endpointCommands, outcomeAccepted)
		writeMessage(w, helpMessage(fmt.Sprintf("Unknown action %q.", c.action)))
		return
	}
	h.reply(w, r, endpointCommands, outcomeAccepted, slash.ResponseURL, ephemeral("Working on it: Cairn will answer here shortly."), work)
}

// requestID makes a Slack command's calls idempotent: Slack gives each
// command its own trigger id.
func requestID(slash slack.SlashCommand) string {
	if slash.TriggerID == "" {
		return ""
	}
	return "slack:" + slash.TriggerID
}

func (h *Handler) createService(ctx context.Context, c command, slash slack.SlashCommand) *slack.Msg {
	name := c.name()
	var missing []string
	for option, value := range map[string]string{"name": name, "team": c.option("team"), "template": c.option("template")} {
		if value == "" {
			missing = append(missing, "--"+option)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return helpMessage("Missing " + strings.Join(missing, ", ") + ".")
	}
	repo := c.option("repo")
	if repo == "" && h.cfg.RepositoryURLPattern != "" {
		repo = strings.ReplaceAll(h.cfg.RepositoryURLPattern, "{name}", name)
	}
	resp, err := h.api.Provisioning.CreateService(ctx, &cairnv1.CreateServiceRequest{
		Name: name, Owner: c.option("team"), Template: c.option("template"),
		Database: cmp.Or(c.option("db"), "none"), DatabaseSize: c.option("db-size"), Bucket: c.option("bucket") == "true",
		Environments: c.options["env"], RepositoryUrl: repo, RequestId: requestID(slash),
	})
	if err != nil {
		return refused("create service "+name, err)
	}
	return h.createdMessage(resp)
}

func (h *Handler) status(ctx context.Context, name string) *slack.Msg {
	if name == "" {
		return helpMessage("Name the service: /platform status NAME.")
	}
	resp, err := h.api.Provisioning.GetServiceStatus(ctx, &cairnv1.GetServiceStatusRequest{Name: "services/" + name})
	if err != nil {
		return refused("show the status of "+name, err)
	}
	return statusMessage(resp)
}

func (h *Handler) promote(ctx context.Context, c command, slash slack.SlashCommand) *slack.Msg {
	name := c.name()
	if name == "" || c.option("revision") == "" {
		return helpMessage("Name the service and the revision: /platform promote NAME --revision REV.")
	}
	resp, err := h.api.Provisioning.CreatePromotion(ctx, &cairnv1.CreatePromotionRequest{
		Parent:    "services/" + name,
		Promotion: &cairnv1.Promotion{Revision: c.option("revision"), Environment: c.option("environment")},
		RequestId: requestID(slash),
	})
	if err != nil {
		return refused("promote "+name, err)
	}
	p := resp.GetPromotion()
	if p.GetState() == "pending" {
		return pendingMessage(p)
	}
	return decidedMessage(p, slack.ResponseTypeInChannel)
}

// serveInteraction serves the buttons of Cairn's messages: Approve and
// Deny decide a promotion as the person who clicked, and Check status
// shows a service's status to them.
func (h *Handler) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body, ok := h.verified(w, r, endpointInteractivity)
	if !ok {
		return
	}
	callback, err := interactionOf(body)
	if err != nil {
		h.count(endpointInteractivity, outcomeBadRequest)
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	actions := callback.ActionCallback.BlockActions
	if callback.Type != slack.InteractionTypeBlockActions || len(actions) == 0 {
		h.count(endpointInteractivity, outcomeAccepted)
		w.WriteHeader(http.StatusOK) // nothing of Cairn's
		return
	}
	action := actions[0]
	principal, lookupErr := h.principal(r.Context(), callback.User.ID)
	outcome := outcomeAccepted
	if principal == nil {
		outcome = outcomeUnmapped // told so at the response URL
	}
	h.reply(w, r, endpointInteractivity, outcome, callback.ResponseURL, nil, func(ctx context.Context) *slack.Msg {
		switch {
		case lookupErr != nil:
			return cannotLookUp(lookupErr)
		case principal == nil:
			return notLinked(callback.User.ID)
		}
		ctx = h.api.As(ctx, principal)
		switch action.ActionID {
		case actionApprove, actionDeny:
			return h.decide(ctx, principal, action.ActionID == actionApprove, action.Value)
		case actionStatus:
			return h.status(ctx, action.Value)
		}
		return ephemeral("Cairn does not know this button.")
	})
}

func (h *Handler) decide(ctx context.Context, principal *auth.Principal, approve bool, promotion string) *slack.Msg {
	reason := "decided in Slack by " + principal.Name
	var (
		decided *cairnv1.Promotion
		err     error
	)
	if approve {
		var resp *cairnv1.ApprovePromotionResponse
		resp, err = h.api.Provisioning.ApprovePromotion(ctx, &cairnv1.ApprovePromotionRequest{Name: promotion, Reason: reason})
		decided = resp.GetPromotion()
	} else {
		var resp *cairnv1.DenyPromotionResponse
		resp, err = h.api.Provisioning.DenyPromotion(ctx, &cairnv1.DenyPromotionRequest{Name: promotion, Reason: reason})
		decided = resp.GetPromotion()
	}
	if err != nil {
		verb := "deny"
		if approve {
			verb = "approve"
		}
		return refused(verb+" "+promotion, err)
	}
	msg := decidedMessage(decided, slack.ResponseTypeInChannel)
	msg.ReplaceOriginal = true
	return msg
}
