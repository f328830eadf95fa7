-- name: DeleteBillingMonth :one
-- Forgets that a source imported a month, returning the month's id: the
-- import deletes its rows by it.
DELETE FROM billing_months WHERE source = @source AND month = @month
RETURNING id;

-- name: InsertBillingMonth :one
-- Records that a source imports a month now, under a new id.
INSERT INTO billing_months (source, month, currency, imported_at)
VALUES (@source, @month, @currency, @imported_at)
RETURNING id;

-- name: DeleteBillingCharges :exec
DELETE FROM billing_charges WHERE month_id = @month_id;

-- name: DeleteBillingResourceCosts :exec
DELETE FROM billing_resource_costs WHERE month_id = @month_id;

-- name: DeleteBillingDailyCosts :exec
DELETE FROM billing_daily_costs WHERE month_id = @month_id;

-- name: ServiceBilling :many
-- Sums a service's months per resource, from its index alone. The costs
-- are summed in halves, which cannot overflow where whole costs would: the
-- high 32 bits (>> is arithmetic) and the low 32 bits; see money.FromParts.
SELECT month, resource_id, service_category, currency,
       CAST(SUM(effective_cost >> 32) AS INTEGER) AS cost_high,
       CAST(SUM(effective_cost & 4294967295) AS INTEGER) AS cost_low
FROM billing_resource_costs
WHERE service = @service AND month IN (sqlc.slice('months'))
GROUP BY month, resource_id, service_category, currency
ORDER BY month, resource_id, service_category, currency;

-- name: LastBillingImport :one
-- The latest import, MAX(imported_at), as a row: none when nothing was
-- imported. The table holds a row per source and month.
SELECT imported_at FROM billing_months ORDER BY imported_at DESC LIMIT 1;

-- name: DailyBilling :many
-- Sums the services' effective cost per UTC day and currency, for days in
-- [@day_from, @day_to) (unix microseconds), in halves as ServiceBilling
-- does. The currency is the month's. The slice comes last: sqlc numbers the
-- other parameters (?1, ?2), which the slice's expansion into several would
-- shift were it first.
SELECT d.day, m.currency,
       CAST(SUM(d.effective_cost >> 32) AS INTEGER) AS cost_high,
       CAST(SUM(d.effective_cost & 4294967295) AS INTEGER) AS cost_low
FROM billing_daily_costs d
JOIN billing_months m ON m.id = d.month_id
WHERE d.day >= @day_from AND d.day < @day_to
  AND d.service IN (sqlc.slice('services'))
GROUP BY d.day, m.currency
ORDER BY d.day, m.currency;
