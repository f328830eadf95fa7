-- name: AppendAuditEvent :one
INSERT INTO audit_events (time, principal, action, target, request_id, outcome, code, detail)
VALUES (@time, @principal, @action, @target, @request_id, @outcome, @code, @detail)
RETURNING *;

-- name: ListAuditEvents :many
-- A NULL filter matches every event. PostgreSQL plans a call with its
-- arguments, folding away the filters that are NULL, so that a principal or
-- target filter reads its index and other calls walk the primary key down
-- from @before. (Its plan cache keeps planning so: a generic plan, blind to
-- which filters are NULL, could only walk the primary key, and costs more.)
SELECT * FROM audit_events
WHERE id < @before
  AND (sqlc.narg(principal)::text IS NULL OR principal = sqlc.narg(principal))
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action))
  AND (sqlc.narg(target)::text IS NULL OR target = sqlc.narg(target))
  AND (sqlc.narg(outcome)::text IS NULL OR outcome = sqlc.narg(outcome))
  AND (sqlc.narg(start_time)::timestamptz IS NULL OR time >= sqlc.narg(start_time))
  AND (sqlc.narg(end_time)::timestamptz IS NULL OR time < sqlc.narg(end_time))
ORDER BY id DESC
LIMIT @max_events::bigint;
