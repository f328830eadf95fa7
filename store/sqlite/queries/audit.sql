-- name: AppendAuditEvent :one
INSERT INTO audit_events (time, principal, action, target, request_id, outcome, code, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: ListAuditEvents :many
-- Walks the primary key down from @before. A NULL filter matches every
-- event. Each filter is compared before it is tested for NULL because sqlc
-- types an argument by its first use.
--
-- SQLite plans a statement before it sees its arguments, so a filter that
-- may be NULL cannot pick an index. The filters that have one have a
-- statement of their own, below, in which they must be set: this one,
-- ListAuditEventsOfPrincipal and ListAuditEventsOfTarget take the same
-- arguments, in the same order.
SELECT * FROM audit_events
WHERE id < sqlc.arg(before)
  AND (principal = sqlc.narg(principal) OR sqlc.narg(principal) IS NULL)
  AND (action = sqlc.narg(action) OR sqlc.narg(action) IS NULL)
  AND (target = sqlc.narg(target) OR sqlc.narg(target) IS NULL)
  AND (outcome = sqlc.narg(outcome) OR sqlc.narg(outcome) IS NULL)
  AND (time >= sqlc.narg(start_time) OR sqlc.narg(start_time) IS NULL)
  AND (time < sqlc.narg(end_time) OR sqlc.narg(end_time) IS NULL)
ORDER BY id DESC
LIMIT sqlc.arg(max_events);

-- name: ListAuditEventsOfPrincipal :many
-- ListAuditEvents with a principal, not NULL: walks its index down from
-- @before.
SELECT * FROM audit_events
WHERE id < sqlc.arg(before)
  AND principal = sqlc.narg(principal)
  AND (action = sqlc.narg(action) OR sqlc.narg(action) IS NULL)
  AND (target = sqlc.narg(target) OR sqlc.narg(target) IS NULL)
  AND (outcome = sqlc.narg(outcome) OR sqlc.narg(outcome) IS NULL)
  AND (time >= sqlc.narg(start_time) OR sqlc.narg(start_time) IS NULL)
  AND (time < sqlc.narg(end_time) OR sqlc.narg(end_time) IS NULL)
ORDER BY id DESC
LIMIT sqlc.arg(max_events);

-- name: ListAuditEventsOfTarget :many
-- ListAuditEvents with a target, not NULL: walks its index down from
-- @before.
SELECT * FROM audit_events
WHERE id < sqlc.arg(before)
  AND (principal = sqlc.narg(principal) OR sqlc.narg(principal) IS NULL)
  AND (action = sqlc.narg(action) OR sqlc.narg(action) IS NULL)
  AND target = sqlc.narg(target)
  AND (outcome = sqlc.narg(outcome) OR sqlc.narg(outcome) IS NULL)
  AND (time >= sqlc.narg(start_time) OR sqlc.narg(start_time) IS NULL)
  AND (time < sqlc.narg(end_time) OR sqlc.narg(end_time) IS NULL)
ORDER BY id DESC
LIMIT sqlc.arg(max_events);
