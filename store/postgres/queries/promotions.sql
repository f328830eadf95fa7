-- name: InsertPromotion :one
-- Inserts a pending promotion of a provisioned service, unless the service
-- has one of its requester and request id already. It returns no row when it writes
-- nothing: when the request id is taken (by a row that has committed: one
-- that another transaction is still writing is waited for), or the service
-- has no provisioning.
INSERT INTO promotions (
    service, request_id, revision, state, requester, decider, reason, create_time, decide_time, environment, rollback,
    evidence
)
SELECT provisionings.service, @request_id, @revision, 'pending', @requester, '', '', @create_time, NULL, @environment, @rollback, @evidence
FROM provisionings
WHERE provisionings.service = @service
ON CONFLICT DO NOTHING
RETURNING *;

-- name: GetPromotion :one
SELECT * FROM promotions WHERE service = @service AND id = @id;

-- name: GetPromotionByRequestID :one
-- Reads the unique index, whose condition the query repeats.
SELECT * FROM promotions WHERE service = @service AND requester = @requester AND request_id = @request_id AND request_id <> '';

-- name: ListPromotions :many
-- Walks the service's index down from @before.
SELECT * FROM promotions
WHERE service = @service AND id < @before
ORDER BY id DESC
LIMIT @max_promotions::bigint;

-- name: DecidePromotion :one
-- Decides the promotion if it is pending; returns no row otherwise. A
-- concurrent decision is waited for, and the state checked again once it
-- commits: of two, one wins.
UPDATE promotions
SET state = @state, decider = @decider, reason = @reason, decide_time = @decide_time
WHERE service = @service AND id = @id AND state = 'pending'
RETURNING *;
