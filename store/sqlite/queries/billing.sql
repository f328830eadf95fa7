-- name: DeleteBillingMonth :exec
-- Deletes the rows a source imported for a month, by its index.
DELETE FROM billing_rows WHERE source = @source AND month = @month;

-- name: RecordBillingImport :exec
INSERT INTO billing_imports (source, month, imported_at)
VALUES (@source, @month, @imported_at)
ON CONFLICT (source, month) DO UPDATE SET imported_at = excluded.imported_at;

-- name: InsertBillingRow :exec
-- ReplaceBilling runs it once per row, prepared once per import (see
-- preparedTx).
INSERT INTO billing_rows (
    source, month, charge_period_start, charge_period_end, charge_category,
    service, resource_id, service_name, service_category, currency,
    billed_cost, effective_cost, list_cost
) VALUES (
    @source, @month, @charge_period_start, @charge_period_end, @charge_category,
    @service, @resource_id, @service_name, @service_category, @currency,
    @billed_cost, @effective_cost, @list_cost
);

-- name: ServiceBilling :many
-- Sums a service's month per resource, by its index.
SELECT resource_id, service_category, currency,
       CAST(SUM(effective_cost) AS INTEGER) AS effective_cost
FROM billing_rows
WHERE service = @service AND month = @month
GROUP BY resource_id, service_category, currency
ORDER BY resource_id, service_category, currency;

-- name: LastBillingImport :one
-- The latest import, MAX(imported_at), as a row: none when nothing was
-- imported. The table holds a row per source and month.
SELECT imported_at FROM billing_imports ORDER BY imported_at DESC LIMIT 1;

-- name: DailyBilling :many
-- Sums the services' effective cost per UTC day of charge_period_start,
-- for starts in [@day_from, @day_to) (unix microseconds), by the index on
-- (service, month). A day is its first microsecond: times are unix
-- microseconds, so a day is the start less its remainder of 86400000000,
-- taken so that it is never negative (SQLite's % keeps the dividend's
-- sign, for a start before 1970). The slice comes last: sqlc numbers the
-- other parameters (?1, ?2), which the slice's expansion into several
-- would shift were it first.
SELECT CAST(charge_period_start - ((charge_period_start % 86400000000) + 86400000000) % 86400000000 AS INTEGER) AS day,
       CAST(SUM(effective_cost) AS INTEGER) AS effective_cost
FROM billing_rows
WHERE charge_period_start >= @day_from AND charge_period_start < @day_to
  AND service IN (sqlc.slice('services'))
GROUP BY day
ORDER BY day;
