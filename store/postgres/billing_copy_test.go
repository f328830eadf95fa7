package postgres

import (
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/internal/testenv/pgtest"
	"github.com/cairn-dev/cairn/store"
)

// ReplaceBilling encodes the charges it copies itself: every column of
// every row lands as imported, in file order, times to the microsecond.
func TestReplaceBillingCopiesEveryChargeAsImported(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, pgtest.Shared(t).NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Migrate(ctx))

	rows := []store.BillingRow{{
		ChargePeriodStart: time.Date(2031, 1, 31, 23, 59, 59, 999_999_999, time.UTC),
		ChargePeriodEnd:   time.Date(2031, 2, 1, 0, 0, 0, 1_000, time.FixedZone("CET", 3600)),
		ChargeCategory:    "Usage", Service: "orders", ResourceID: "arn:aws:rds:eu-west-1:123456789012:db:orders",
		ServiceName: "Amazon Relational Database Service", ServiceCategory: "Databases", Currency: "EUR",
		BilledCost: math.MaxInt64, EffectiveCost: 1, ListCost: 0,
	}, {
		// Before 2000, PostgreSQL's binary times are negative.
		ChargePeriodStart: time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC),
		ChargePeriodEnd:   time.Date(1999, 12, 31, 23, 30, 0, 0, time.UTC),
		ChargeCategory:    "Credit", Service: "", ResourceID: "", ServiceName: "Ämazon Crédits ☁", ServiceCategory: "",
		Currency: "EUR", BilledCost: -5, EffectiveCost: math.MinInt64, ListCost: -1,
	}}
	_, err = s.ReplaceBilling(ctx, "aws", func(yield func(store.BillingRow, error) bool) {
		for _, row := range rows {
			if !yield(row, nil) {
				return
			}
		}
	})
	require.NoError(t, err)

	stored, err := s.d.pool.Query(ctx, `
		SELECT m.month, c.row_number, c.charge_period_start, c.charge_period_end, c.charge_category, c.service,
		       c.resource_id, c.service_name, c.service_category, m.currency, c.billed_cost, c.effective_cost, c.list_cost
		FROM billing_charges c JOIN billing_months m ON m.id = c.month_id
		ORDER BY c.row_number`)
	require.NoError(t, err)
	type charge struct {
		Month     string
		RowNumber int64
		store.BillingRow
	}
	got, err := pgx.CollectRows(stored, func(row pgx.CollectableRow) (charge, error) {
		var c charge
		err := row.Scan(&c.Month, &c.RowNumber, &c.ChargePeriodStart, &c.ChargePeriodEnd, &c.ChargeCategory, &c.Service,
			&c.ResourceID, &c.ServiceName, &c.ServiceCategory, &c.Currency, &c.BilledCost, &c.EffectiveCost, &c.ListCost)
		c.ChargePeriodStart, c.ChargePeriodEnd = c.ChargePeriodStart.UTC(), c.ChargePeriodEnd.UTC()
		return c, err
	})
	require.NoError(t, err)

	want := []charge{{"2031-01", 1, rows[0]}, {"1999-12", 2, rows[1]}}
	for i := range want {
		want[i].ChargePeriodStart = want[i].ChargePeriodStart.UTC().Truncate(time.Microsecond)
		want[i].ChargePeriodEnd = want[i].ChargePeriodEnd.UTC().Truncate(time.Microsecond)
	}
	require.Equal(t, want, got)
}
