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

-- name: CopyBillingResourceCosts :copyfrom
INSERT INTO billing_resource_costs (month_id, month, service, resource_id, service_category, currency, effective_cost)
VALUES (@month_id, @month, @service, @resource_id, @service_category, @currency, @effective_cost);

-- name: CopyBillingDailyCosts :copyfrom
INSERT INTO billing_daily_costs (month_id, service, day, effective_cost)
VALUES (@month_id, @service, @day, @effective_cost);

-- name: ServiceBilling :many
-- Sums a service's months per resource, by its index. The costs are summed
-- in halves, which fit a bigint where whole costs may not: the high 32 bits
-- (>> is arithmetic) and the low 32 bits; see money.FromParts.
SELECT month, resource_id, service_category, currency,
       SUM(effective_cost >> 32)::bigint AS cost_high,
       SUM(effective_cost & 4294967295)::bigint AS cost_low
FROM billing_resource_costs
WHERE service = @service AND month = ANY(@months::text[])
GROUP BY month, resource_id, service_category, currency
ORDER BY month, resource_id, service_category, currency;

-- name: LastBillingImport :one
-- The latest import, MAX(imported_at), as a row: none when nothing was
-- imported. The table holds a row per source and month.
SELECT imported_at FROM billing_months ORDER BY imported_at DESC LIMIT 1;

-- name: DailyBilling :many
-- Sums the services' effective cost per UTC day and currency (the
-- month's), for days in [@day_from, @day_to), by the index on (service,
-- day), in halves as ServiceBilling does.
SELECT d.day, m.currency,
       SUM(d.effective_cost >> 32)::bigint AS cost_high,
       SUM(d.effective_cost & 4294967295)::bigint AS cost_low
FROM billing_daily_costs d
JOIN billing_months m ON m.id = d.month_id
WHERE d.service = ANY(@services::text[])
  AND d.day >= @day_from AND d.day < @day_to
GROUP BY d.day, m.currency
ORDER BY d.day, m.currency;
