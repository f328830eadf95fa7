package provisioning

import (
	"context"
	"fmt"
	"strings"

	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/server/notify"
)

// FailureAlerts is the notifier's source of failed provisionings.
type FailureAlerts struct{ p *Provisioner }

// FailureAlerts returns the source that tells a team when a service's
// provisioning fails (a claim Crossplane cannot reconcile) or a sync of
// its Applications does (a promotion's, which changes the service's spec,
// or an environment's own), once per change of what the service asked
// for.
func (p *Provisioner) FailureAlerts() FailureAlerts { return FailureAlerts{p: p} }

// Events are the failed provisionings the informers show now, each keyed
// by its service and generation.
func (a FailureAlerts) Events(ctx context.Context) ([]notify.Event, error) {
	p := a.p
	if p.cluster == nil {
		return nil, nil
	}
	var events []notify.Event
	for after := ""; ; {
		page, err := p.store.ListProvisionings(ctx, after, listPage)
		if err != nil {
			return nil, err
		}
		for _, prov := range page {
			apps, claims := p.cluster.Objects(prov.Service)
			snap := Snapshot{Applications: apps, Claims: claims}
			status := statusOf(prov, snap, p.settings)
			if status.GetPhase() != PhaseFailed {
				continue
			}
			var why []string
			for _, c := range status.GetInfrastructure() {
				if c.GetReason() != "" && !c.GetReady() {
					why = append(why, fmt.Sprintf("%s %s: %s", c.GetKind(), c.GetResource(), strings.TrimSpace(c.GetReason()+" "+c.GetMessage())))
				}
			}
			kind, title, what := "provisioning_failed", "Provisioning failed: ", "The provisioning of"
			for _, app := range apps {
				phase := stringAt(app, "", "status", "operationState", "phase")
				if phase != "Failed" && phase != "Error" {
					continue
				}
				if len(why) == 0 {
					// Only syncs failed: a promotion's, or an environment's own.
					kind, title, what = "sync_failed", "Sync failed: ", "A sync of"
				}
				why = append(why, fmt.Sprintf("the sync of %s to %s failed: %s", app.GetLabels()[manifest.LabelEnvironment],
					stringAt(app, "?", "status", "operationState", "syncResult", "revision"), stringAt(app, phase, "status", "operationState", "message")))
			}
			events = append(events, notify.Event{
				Key: fmt.Sprintf("provisioning/%s/%d/failed", prov.Service, prov.Generation), Kind: kind,
				Team: prov.Spec.Team, Service: prov.Service, Title: title + prov.Service,
				Text:      fmt.Sprintf("%s %s failed: %s.", what, prov.Service, strings.Join(why, "; ")),
				Recipient: prov.Spec.Owner,
			})
		}
		if len(page) < listPage {
			return events, nil
		}
		after = page[len(page)-1].Service
	}
}
