-- name: DeleteBillingMonth :exec
-- Deletes the rows a source imported for a month, by its index.
DELETE FROM billing_rows WHERE source = @source AND month = @month;

-- name: RecordBillingImport :exec
INSERT INTO billing_imports (source, month, imported_at)
VALUES (@source, @month, @imported_at)
ON CONFLICT (source, month) DO UPDATE SET imported_at = excluded.imported_at;

-- name: InsertBillingRows :copyfrom
-- ReplaceBilling copies rows in batches.
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
-- Sums a service's month per resource, by its index. SUM of bigint is
-- numeric: cast back, failing should it overflow.
SELECT resource_id, service_category, currency,
       SUM(effective_cost)::bigint AS effective_cost
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
-- for starts in [@day_from, @day_to), by the index on (service, month).
-- The day is cast back to timestamptz, at UTC midnight. SUM of bigint is
-- numeric: cast back, failing should it overflow.
SELECT CAST(date_trunc('day', charge_period_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS timestamptz) AS day,
       SUM(effective_cost)::bigint AS effective_cost
FROM billing_rows
WHERE service = ANY(@services::text[])
  AND charge_period_start >= @day_from AND charge_period_start < @day_to
GROUP BY 1
ORDER BY 1;
