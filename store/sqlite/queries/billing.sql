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
