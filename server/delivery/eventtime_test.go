package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
)

func TestEventsOutsideTheWindowAreRefusedWithTheirField(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	times := eventTimes{now: now, window: DefaultEventWindow}
	epoch := time.Unix(0, 0).UTC()
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		err   error
		field string
	}{
		{"a deployment started in 1970", checkDeployment(store.Deployment{Service: "orders", Environment: "production", Revision: "v1", Status: store.DeploymentSucceeded, StartedAt: epoch, FinishedAt: now}, times), "started_at"},
		{"a deployment finished in 2099", checkDeployment(store.Deployment{Service: "orders", Environment: "production", Revision: "v1", Status: store.DeploymentSucceeded, StartedAt: now, FinishedAt: future}, times), "finished_at"},
		{"an incident opened in 1970", checkIncident(store.Incident{ID: "INC-1", Service: "orders", OpenedAt: epoch}, times), "opened_at"},
		{"an incident resolved in 2099", checkIncident(store.Incident{ID: "INC-1", Service: "orders", OpenedAt: now, ResolvedAt: future}, times), "resolved_at"},
		{"a ticket opened 367 days ago", checkSupportTicket(store.SupportTicket{ID: "T-1", Category: "ci", OpenedAt: now.Add(-367 * 24 * time.Hour)}, times, entityref.Teams{}), "opened_at"},
		{"a ticket opened 11 minutes ahead", checkSupportTicket(store.SupportTicket{ID: "T-1", Category: "ci", OpenedAt: now.Add(11 * time.Minute)}, times, entityref.Teams{}), "opened_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var apiErr *apierr.Error
			require.ErrorAs(t, tc.err, &apiErr)
			require.Len(t, apiErr.Violations, 1)
			require.Equal(t, tc.field, apiErr.Violations[0].Field)
		})
	}
}

func TestEventsInsideTheWindowAreTaken(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	times := eventTimes{now: now, window: DefaultEventWindow}
	yearAgo := now.Add(-365 * 24 * time.Hour)
	require.NoError(t, checkDeployment(store.Deployment{Service: "orders", Environment: "production", Revision: "v1",
		Status: store.DeploymentSucceeded, StartedAt: yearAgo, FinishedAt: now.Add(9 * time.Minute),
		Commits: []store.Commit{{SHA: "abc", CommittedAt: now.Add(-3 * 365 * 24 * time.Hour)}}}, times))
	require.NoError(t, checkIncident(store.Incident{ID: "INC-1", Service: "orders", OpenedAt: yearAgo, ResolvedAt: now}, times))
}

func TestEventWindowValidate(t *testing.T) {
	require.NoError(t, DefaultEventWindow.Validate())
	require.Error(t, EventWindow{MaxAge: 0, MaxFuture: time.Minute}.Validate())
	require.Error(t, EventWindow{MaxAge: time.Hour, MaxFuture: -time.Minute}.Validate())
}
