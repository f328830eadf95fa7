-- name: InsertProvisioning :one
-- Inserts the provisioning unless its service, or its requester's request id, is taken,
-- when it writes nothing and returns no row.
INSERT INTO provisionings (
    service, request_id, requester, spec, generation, applied_generation,
    create_time, update_time, ready_time
) VALUES (?, ?, ?, ?, 1, 0, ?, ?, NULL)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: GetProvisioning :one
SELECT * FROM provisionings WHERE service = ?;

-- name: GetProvisioningByRequestID :one
-- Reads the unique index, whose condition the query repeats.
SELECT * FROM provisionings WHERE requester = ? AND request_id = ? AND request_id <> '';

-- name: ListProvisionings :many
SELECT * FROM provisionings
WHERE service > sqlc.arg(after)
ORDER BY service
LIMIT sqlc.arg(max_provisionings);

-- name: ListPendingProvisionings :many
SELECT * FROM provisionings
WHERE service > sqlc.arg(after) AND (applied_generation < generation OR ready_time IS NULL)
ORDER BY service
LIMIT sqlc.arg(max_provisionings);

-- name: UpdateProvisioningSpec :one
-- Replaces the spec if the generation is still @generation, and moves the
-- generation up; returns no row otherwise.
UPDATE provisionings
SET spec = sqlc.arg(spec), generation = generation + 1, update_time = sqlc.arg(update_time)
WHERE service = sqlc.arg(service) AND generation = sqlc.arg(generation)
RETURNING *;

-- name: MarkProvisioningApplied :execrows
-- Moves the applied generation up to @generation, never down.
UPDATE provisionings
SET applied_generation = max(applied_generation, CAST(sqlc.arg(generation) AS INTEGER))
WHERE service = sqlc.arg(service);

-- name: MarkProvisioningReady :execrows
-- Sets the ready time, unless it is set already.
UPDATE provisionings
SET ready_time = coalesce(ready_time, sqlc.arg(ready_time))
WHERE service = sqlc.arg(service);
