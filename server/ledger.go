package server

import (
	"context"

	"github.com/cairn-dev/cairn/server/cost"
	"github.com/cairn-dev/cairn/server/delivery"
)

// doraBands reads the template ledgers' DORA bands from the metrics
// service, over its default window.
type doraBands struct{ events *delivery.Service }

func (d doraBands) ServiceBands(ctx context.Context, service string) (cost.ServiceBands, error) {
	dora, err := d.events.ServiceDora(ctx, service, "")
	if err != nil {
		return cost.ServiceBands{}, err
	}
	return cost.ServiceBands{
		DeploymentFrequency: dora.DeploymentFrequency.Band, LeadTimeForChanges: dora.LeadTimeForChanges.Band,
		ChangeFailureRate: dora.ChangeFailureRate.Band, TimeToRestore: dora.TimeToRestore.Band,
	}, nil
}
