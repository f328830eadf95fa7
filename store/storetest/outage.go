package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// Outager is implemented by the stores an engine's tests give Run, to prove
// that an outage of the database is ErrUnavailable on every engine, so that
// callers answer "try again later" whichever engine they run on.
//
// OutageStore returns another store of the database the store keeps, and
// outage, which makes that database refuse the other store's writes from
// then on, as an outage would, and returns the function that ends it: for
// PostgreSQL, the network to the server failing; for SQLite, another
// process holding the database's write lock past the store's busy timeout.
// Neither engine needs a test hook for it.
type Outager interface {
	OutageStore(t *testing.T) (s store.Store, outage func() (end func()))
}

func testOutageIsUnavailable(t *testing.T, s store.Store) {
	outager, ok := s.(Outager)
	require.True(t, ok, "%T does not implement storetest.Outager", s)
	orders := upsert(t, s, fullService("orders"))
	other, outage := outager.OutageStore(t)

	// One write of each kind: a transaction, a single statement, a bulk
	// import, and the migration runner's.
	writes := []struct {
		name  string
		write func(ctx context.Context) error
	}{
		{"UpsertService", func(ctx context.Context) error {
			_, _, err := other.UpsertService(ctx, fullService("cart"), "")
			return err
		}},
		{"DeleteService", func(ctx context.Context) error { return other.DeleteService(ctx, "cart", "") }},
		{"AppendAuditEvent", func(ctx context.Context) error {
			_, err := other.AppendAuditEvent(ctx, fullAuditEvent())
			return err
		}},
		{"PutBudget", func(ctx context.Context) error {
			_, err := other.PutBudget(ctx, store.Budget{Team: "payments", MonthlyAmount: 1, Currency: "EUR"})
			return err
		}},
		{"CreateProvisioning", func(ctx context.Context) error {
			p := fullProvisioning("stock")
			p.RequestID = "req-outage-" + time.Now().Format(time.RFC3339Nano)
			_, _, err := other.CreateProvisioning(ctx, p, &store.Service{Name: "stock", Team: p.Spec.Team, Owner: p.Spec.Owner})
			return err
		}},
		{"RecordDeployment", func(ctx context.Context) error {
			_, err := other.RecordDeployment(ctx, deployment("v1", time.Now().Truncate(time.Second), time.Hour))
			return err
		}},
		{"ReplaceBilling", func(ctx context.Context) error {
			_, err := other.ReplaceBilling(ctx, "aws", withoutErrors(slices.Values([]store.BillingRow{{
				ChargePeriodStart: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), ChargePeriodEnd: time.Date(2031, 1, 1, 1, 0, 0, 0, time.UTC),
				ChargeCategory: "Usage", Service: "orders", Currency: "EUR", EffectiveCost: 1,
			}})))
			return err
		}},
		{"Migrate", func(ctx context.Context) error { return other.Migrate(ctx) }},
	}
	end := outage()
	for _, w := range writes {
		err := w.write(t.Context())
		require.ErrorIs(t, err, store.ErrUnavailable, "%s during the outage", w.name)
	}
	end()
	for _, w := range writes {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.NoError(c, w.write(t.Context()))
		}, 10*time.Second, 50*time.Millisecond, "%s once the outage is over", w.name)
	}
	requireStored(t, other, orders)
}
