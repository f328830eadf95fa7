package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/store"
)

// The checks below are of a database an older Cairn wrote, once migrated:
// each engine's migration tests write the old rows in their own SQL and
// migrate, then run the check, so that both engines upgrade alike.

// RequireBillingMoved checks that migration 0007 moved the billing that
// TestMigrationMovesBillingImportedBefore wrote in 0004's tables: every
// read answers as it did, and a re-import replaces the months moved.
func RequireBillingMoved(t *testing.T, s store.Store) {
	ctx := t.Context()
	eur := func(resource, category string, cost int64) store.BilledResource {
		return store.BilledResource{ResourceID: resource, ServiceCategory: category, EffectiveCost: money.Of(cost), Currency: "EUR"}
	}
	requireBilling := func(service, month string, want ...store.BilledResource) {
		t.Helper()
		got, err := s.ServiceBilling(ctx, service, month)
		require.NoError(t, err)
		if len(want) == 0 {
			require.Empty(t, got, "%q in %s", service, month)
			return
		}
		require.Equal(t, map[string][]store.BilledResource{month: want}, got, "%q in %s", service, month)
	}
	requireBilling("orders", "2031-01", eur("bucket", "Storage", 30), eur("db", "Databases", 300), eur("sql", "Databases", 600))
	requireBilling("orders", "2031-02", eur("db", "Databases", 400))
	requireBilling("", "2031-01", eur("nat", "Networking", 50))
	day := func(month time.Month, d int) time.Time { return time.Date(2031, month, d, 0, 0, 0, 0, time.UTC) }
	days, err := s.DailyBilling(ctx, []string{"orders"}, day(1, 1), day(3, 1))
	require.NoError(t, err)
	require.Equal(t, []store.DailyCost{
		{Day: day(1, 3), Currency: "EUR", EffectiveCost: money.Of(900)}, {Day: day(1, 4), Currency: "EUR", EffectiveCost: money.Of(30)},
		{Day: day(2, 1), Currency: "EUR", EffectiveCost: money.Of(400)},
	}, days)
	last, err := s.LastBillingImport(ctx)
	require.NoError(t, err)
	require.Equal(t, day(3, 1), last)

	_, err = s.ReplaceBilling(ctx, "aws", func(yield func(store.BillingRow, error) bool) {
		yield(store.BillingRow{
			ChargePeriodStart: day(1, 7), ChargePeriodEnd: day(1, 8), ChargeCategory: "Usage", Service: "orders",
			ResourceID: "db", ServiceName: "Amazon RDS", ServiceCategory: "Databases", Currency: "EUR", EffectiveCost: 700,
		}, nil)
	})
	require.NoError(t, err)
	requireBilling("orders", "2031-01", eur("db", "Databases", 700), eur("sql", "Databases", 600))
	requireBilling("orders", "2031-02", eur("db", "Databases", 400))
	requireBilling("", "2031-01")
}

// RequireIDsScopedAndNamesRetired checks what migration 0009 made of the
// rows TestMigrationScopesIDsAndRetiresNamesDeletedBefore wrote on
// 2031-05-14 (at gives its hours).
func RequireIDsScopedAndNamesRetired(t *testing.T, s store.Store) {
	ctx := t.Context()
	at := func(hour int) time.Time { return time.Date(2031, 5, 14, hour, 0, 0, 0, time.UTC) }
	got, err := s.GetIncident(ctx, "orders", "INC-1")
	require.NoError(t, err)
	require.Equal(t, store.Incident{ID: "INC-1", Service: "orders", OpenedAt: at(9), CauseRevision: "v1"}, got)
	found, err := s.FindIncidents(ctx, "INC-2")
	require.NoError(t, err)
	require.Equal(t, []store.Incident{{
		ID: "INC-2", Service: "deleted-with-history", OpenedAt: at(10), ResolvedAt: at(11),
	}}, found)

	counts, err := s.CountSupportTickets(ctx, at(0), at(24))
	require.NoError(t, err)
	require.Equal(t, []store.TicketCount{{Category: "access", Count: 1}, {Category: "ci", Count: 1}}, counts)
	created, err := s.RecordSupportTicket(ctx, store.SupportTicket{Scope: "teams/team-a", ID: "SUP-1", Category: "ci", Team: "team-a", OpenedAt: at(9)})
	require.NoError(t, err)
	require.False(t, created, "a team's ticket keeps its id within the team")

	prov, created, err := s.CreateProvisioning(ctx, store.Provisioning{Service: "cart", RequestID: "req-1", Requester: "ci-b",
		Spec: store.ProvisioningSpec{Owner: "group:default/team-b", Team: "team-b"}}, &store.Service{Name: "cart", Team: "team-b"})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, "cart", prov.Service)
	promotion, created, err := s.CreatePromotion(ctx, store.Promotion{Service: "cart", RequestID: "req-p", Revision: "v2", Requester: "ci-b"})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, "v1", promotion.Revision)

	// cart's holder is its provisioning's team; the other name's is not
	// known, so only an admin gives it out.
	_, _, err = s.UpsertService(ctx, &store.Service{Name: "cart", Team: "team-a"}, "")
	var held *store.NameHeldError
	require.ErrorAs(t, err, &held)
	require.Equal(t, store.NameHeldError{Name: "cart", Team: "team-b", Retired: true}, *held)
	_, _, err = s.UpsertService(ctx, &store.Service{Name: "deleted-with-history", Team: "team-a"}, "")
	require.ErrorAs(t, err, &held)
	require.Equal(t, store.NameHeldError{Name: "deleted-with-history", Retired: true}, *held)
	_, _, err = s.UpsertService(ctx, &store.Service{Name: "orders", Team: "team-a", Title: "still its own"}, "")
	require.NoError(t, err, "a name in the catalog is not retired")
}

// RequirePromotionsToProduction checks what migration 0010 made of the
// promotions of cart that TestMigrationNamesProductionTheEnvironmentOfEarlierPromotions
// wrote on 2031-05-14 (at gives its hours): req-q, approved, then req-p,
// pending. Each is to production and no rollback, and keeps them once
// decided or requested again; and migration 0012 counts them notified.
func RequirePromotionsToProduction(t *testing.T, s store.Store) {
	ctx := t.Context()
	at := func(hour int) time.Time { return time.Date(2031, 5, 14, hour, 0, 0, 0, time.UTC) }
	got, err := s.ListPromotions(ctx, "cart", 0, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	pending := store.Promotion{
		Service: "cart", ID: got[0].ID, RequestID: "req-p", Revision: "v1", State: "pending", Requester: "ci-b",
		CreateTime: at(9), Environment: "production",
	}
	approved := store.Promotion{
		Service: "cart", ID: got[1].ID, RequestID: "req-q", Revision: "v0", State: "approved", Requester: "ci-b",
		Decider: "user:default/bob", Reason: "Fine.", CreateTime: at(7), DecideTime: at(8), Environment: "production",
	}
	require.Equal(t, []store.Promotion{pending, approved}, got)
	for _, want := range got {
		read, err := s.GetPromotion(ctx, "cart", want.ID)
		require.NoError(t, err)
		require.Equal(t, want, read)
	}
	// Nor are they news: an upgrade notifies nobody of them.
	due, err := s.PromotionsToNotify(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, due, "promotions recorded before notifications count as notified")

	again, created, err := s.CreatePromotion(ctx, store.Promotion{
		Service: "cart", RequestID: "req-p", Revision: "v2", Requester: "ci-b", Environment: "staging", Rollback: true,
	})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, pending, again)
	decided, err := s.DecidePromotion(ctx, "cart", pending.ID, "denied", "user:default/bob", "", at(10))
	require.NoError(t, err)
	require.Equal(t, "production", decided.Environment)
	require.False(t, decided.Rollback)

	// Promotions requested since name their environment.
	staging, created, err := s.CreatePromotion(ctx, store.Promotion{
		Service: "cart", RequestID: "req-r", Revision: "v0", Requester: "ci-b", Environment: "staging", Rollback: true,
	})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "staging", staging.Environment)
	require.True(t, staging.Rollback)
}

// RequireIncidentChargesMigrated checks that migration 0013 charged the
// incidents an older Cairn recorded as it counted them: INC-1, naming v1,
// to v1 (named); INC-2, naming no revision, to none, though v2 finished an
// hour before it opened (the link window is a setting the migration cannot
// read). Both can then be corrected, and the counts follow.
func RequireIncidentChargesMigrated(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.Equal(t, map[string][2]string{"INC-1": {"named", "v1"}, "INC-2": {"", ""}}, charges(t, s))
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 2, IncidentCausing: 1}}, factsOfDay(t, s).Days)
	_, err := s.CorrectIncidentCharge(ctx, "orders", "INC-2", "v2", []string{"production"})
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 2, IncidentCausing: 2}}, factsOfDay(t, s).Days)
	_, err = s.CorrectIncidentCharge(ctx, "orders", "INC-1", "", nil)
	require.NoError(t, err)
	require.Equal(t, []store.DeploymentDay{{Day: metricsDay, Succeeded: 2, IncidentCausing: 1}}, factsOfDay(t, s).Days)
	require.EqualValues(t, 1, incidentCausing(t, s, at(11, 0), at(13, 0)), "v2, from the deployments themselves")
}
