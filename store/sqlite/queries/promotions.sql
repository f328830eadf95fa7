-- name: InsertPromotion :one
-- Inserts a pending promotion of a provisioned service, unless the service
-- has one of its requester and request id already. It returns no row when it writes
-- nothing: when the request id is taken, or the service has no
-- provisioning. The WHERE clause is needed: without it, SQLite would read
-- ON CONFLICT as the start of a join constraint.
INSERT INTO promotions (
    service, request_id, revision, state, requester, decider, reason, create_time, decide_time, environment, rollback,
    evidence
)
SELECT provisionings.service, CAST(sqlc.arg(request_id) AS TEXT), CAST(sqlc.arg(revision) AS TEXT), 'pending',
       CAST(sqlc.arg(requester) AS TEXT), '', '', CAST(sqlc.arg(create_time) AS INTEGER), NULL,
       CAST(sqlc.arg(environment) AS TEXT), CAST(sqlc.arg(rollback) AS BOOLEAN),
       CAST(sqlc.arg(evidence) AS TEXT)
FROM provisionings
WHERE provisionings.service = sqlc.arg(service)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: GetPromotion :one
SELECT * FROM promotions WHERE service = ? AND id = ?;

-- name: GetPromotionByRequestID :one
-- Reads the unique index, whose condition the query repeats.
SELECT * FROM promotions WHERE service = ? AND requester = ? AND request_id = ? AND request_id <> '';

-- name: ListPromotions :many
-- Walks the service's index down from @before.
SELECT * FROM promotions
WHERE service = sqlc.arg(service) AND id < sqlc.arg(before)
ORDER BY id DESC
LIMIT sqlc.arg(max_promotions);

-- name: DecidePromotion :one
-- Decides the promotion if it is pending; returns no row otherwise.
UPDATE promotions
SET state = sqlc.arg(state), decider = sqlc.arg(decider), reason = sqlc.arg(reason),
    decide_time = sqlc.arg(decide_time)
WHERE service = sqlc.arg(service) AND id = sqlc.arg(id) AND state = 'pending'
RETURNING *;
