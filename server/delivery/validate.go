package delivery

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/catalog"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
)

// Bounds on events, as the API declares them.
const (
	maxEnvironmentLength = 63
	maxRevisionLength    = 128
	maxSHALength         = 64
	maxCommits           = 1000
	maxCategoryLength    = 63
)

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// An incident tool's or ticket system's identifier.
	eventID = regexp.MustCompile(`^[A-Za-z0-9][-_.A-Za-z0-9]{0,127}$`)
	sha     = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// violations collects field violations in the order they are found.
type violations []apierr.FieldViolation

func (v *violations) add(field, format string, args ...any) {
	*v = append(*v, apierr.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// checkDeployment reports every way d is not a deployment Cairn can record.
func checkDeployment(d store.Deployment, times eventTimes) error {
	var v violations
	checkServiceName(&v, "service", d.Service)
	checkLabel(&v, "environment", d.Environment, maxEnvironmentLength)
	checkText(&v, "revision", d.Revision, maxRevisionLength, true)
	if d.Status != store.DeploymentSucceeded && d.Status != store.DeploymentFailed {
		v.add("status", "must be %q or %q", store.DeploymentSucceeded, store.DeploymentFailed)
	}
	times.check(&v, "started_at", d.StartedAt, true)
	times.check(&v, "finished_at", d.FinishedAt, true)
	if !d.StartedAt.IsZero() && d.FinishedAt.Before(d.StartedAt) {
		v.add("finished_at", "must not be before started_at")
	}
	if len(d.Commits) > maxCommits {
		v.add("commits", "must hold at most %d commits", maxCommits)
	}
	seen := make(map[string]bool, len(d.Commits))
	for i, c := range d.Commits {
		field := fmt.Sprintf("commits[%d]", i)
		switch {
		case c.SHA == "":
			v.add(field+".sha", "is required")
		case len(c.SHA) > maxSHALength || !sha.MatchString(c.SHA):
			v.add(field+".sha", "must be a commit hash of letters and digits, at most %d characters", maxSHALength)
		case seen[c.SHA]:
			v.add(field+".sha", "is listed twice")
		}
		seen[c.SHA] = true
		// A commit may be older than the event window: a deployment can
		// ship work begun long ago. It may not be later than the deployment.
		checkRequiredTime(&v, field+".committed_at", c.CommittedAt)
		if !d.FinishedAt.IsZero() && c.CommittedAt.After(d.FinishedAt) {
			v.add(field+".committed_at", "must not be after the deployment's finished_at: a deployment ships commits made before it")
		}
	}
	return apierr.Invalid(v...)
}

// checkIncident reports every way i is not an incident Cairn can record.
func checkIncident(i store.Incident, times eventTimes) error {
	var v violations
	checkEventID(&v, "id", i.ID)
	checkServiceName(&v, "service", i.Service)
	times.check(&v, "opened_at", i.OpenedAt, true)
	times.check(&v, "resolved_at", i.ResolvedAt, false)
	if !i.ResolvedAt.IsZero() && i.ResolvedAt.Before(i.OpenedAt) {
		v.add("resolved_at", "must not be before opened_at")
	}
	checkText(&v, "cause_revision", i.CauseRevision, maxRevisionLength, false)
	return apierr.Invalid(v...)
}

// checkSupportTicket reports every way t is not a ticket Cairn can record.
func checkSupportTicket(t store.SupportTicket, times eventTimes, teams entityref.Teams) error {
	var v violations
	checkEventID(&v, "id", t.ID)
	checkLabel(&v, "category", t.Category, maxCategoryLength)
	if t.Team != "" {
		if _, err := teams.Owner(t.Team); err != nil {
			v.add("team", "%v", err)
		}
	}
	times.check(&v, "opened_at", t.OpenedAt, true)
	return apierr.Invalid(v...)
}

func checkServiceName(v *violations, field, name string) {
	switch {
	case name == "":
		v.add(field, "is required")
	case len(name) > catalog.MaxNameLength || !dns1123Label.MatchString(name):
		v.add(field, "must be a service name: a DNS-1123 label of at most %d characters", catalog.MaxNameLength)
	}
}

// checkLabel checks a name that must be a DNS-1123 label, such as an
// environment: matched exactly, so `Production` would never count as
// production.
func checkLabel(v *violations, field, value string, maxLength int) {
	switch {
	case value == "":
		v.add(field, "is required")
	case len(value) > maxLength || !dns1123Label.MatchString(value):
		v.add(field, "must be a DNS-1123 label (lowercase letters, digits and '-') of at most %d characters", maxLength)
	}
}

// checkText checks free text. NUL is refused: PostgreSQL cannot store it,
// and every engine must accept the same input.
func checkText(v *violations, field, text string, maxLength int, required bool) {
	switch {
	case required && text == "":
		v.add(field, "is required")
	case len(text) > maxLength:
		v.add(field, "must be at most %d bytes", maxLength)
	case strings.ContainsRune(text, 0):
		v.add(field, "must not contain NUL characters")
	}
}

func checkEventID(v *violations, field, id string) {
	switch {
	case id == "":
		v.add(field, "is required")
	case !eventID.MatchString(id):
		v.add(field, "must be 1 to 128 letters, digits, '-', '_' or '.', starting with a letter or digit")
	}
}

func checkRequiredTime(v *violations, field string, t time.Time) {
	if t.IsZero() {
		v.add(field, "is required")
	}
}
