-- name: InsertProvisioning :one
-- Inserts the provisioning unless its service, or its requester's request id, is taken,
-- when it writes nothing and returns no row. A row that takes either and
-- that another transaction is still writing is waited for: once this
-- returns no row, the row that took the key has committed.
INSERT INTO provisionings (
    service, request_id, requester, spec, generation, applied_generation,
    create_time, update_time, ready_time
) VALUES (
    @service, @request_id, @requester, @spec, 1, 0, @create_time, @update_time, NULL
)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: GetProvisioning :one
SELECT * FROM provisionings WHERE service = @service;

-- name: GetProvisioningByRequestID :one
-- Reads the unique index, whose condition the query repeats.
SELECT * FROM provisionings WHERE requester = @requester AND request_id = @request_id AND request_id <> '';

-- name: ListProvisionings :many
SELECT * FROM provisionings
WHERE service > @after
ORDER BY service
LIMIT @max_provisionings::bigint;

-- name: ListPendingProvisionings :many
SELECT * FROM provisionings
WHERE service > @after AND (applied_generation < generation OR ready_time IS NULL)
ORDER BY service
LIMIT @max_provisionings::bigint;

-- name: UpdateProvisioningSpec :one
-- Replaces the spec if the generation is still @generation, and moves the
-- generation up; returns no row otherwise. A concurrent update of the row
-- is waited for, and the generation checked again once it commits.
UPDATE provisionings
SET spec = @spec, generation = generation + 1, update_time = @update_time
WHERE service = @service AND generation = @generation
RETURNING *;

-- name: MarkProvisioningApplied :execrows
-- Moves the applied generation up to @generation, never down.
UPDATE provisionings
SET applied_generation = GREATEST(applied_generation, @generation::bigint)
WHERE service = @service;

-- name: MarkProvisioningReady :execrows
-- Sets the ready time, unless it is set already.
UPDATE provisionings
SET ready_time = COALESCE(ready_time, sqlc.narg(ready_time)::timestamptz)
WHERE service = @service;
