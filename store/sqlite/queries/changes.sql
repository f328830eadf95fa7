-- name: ChangeDeployments :many
-- The services' successful deployments to the environments that finished
-- in [@finished_from, @finished_to), from the index on (service,
-- environment, finished_at, status, ...) alone, in finish then service
-- order. The slices come last, as in WholeDeploymentDays.
SELECT service, environment, revision, finished_at
FROM deployments
WHERE status = 'succeeded'
  AND finished_at >= @finished_from AND finished_at < @finished_to
  AND environment IN (sqlc.slice('environments'))
  AND service IN (sqlc.slice('services'))
ORDER BY finished_at, service, environment, revision;

-- name: ChangePromotions :many
-- The services' promotions to the environments approved in
-- [@decided_from, @decided_to) that no successful deployment of their
-- service, environment and revision finished in the period, in decision
-- then service order. A service's promotions are read by the index on
-- (service, id): a service has few.
SELECT p.service, p.id, p.environment, p.revision, CAST(p.decide_time AS INTEGER) AS decide_time
FROM promotions p
WHERE p.state = 'approved'
  AND p.decide_time >= CAST(@decided_from AS INTEGER) AND p.decide_time < CAST(@decided_to AS INTEGER)
  AND NOT EXISTS (
    SELECT 1 FROM deployments d
    WHERE d.service = p.service AND d.revision = p.revision AND d.environment = p.environment
      AND d.status = 'succeeded'
      AND d.finished_at >= CAST(@decided_from AS INTEGER) AND d.finished_at < CAST(@decided_to AS INTEGER)
  )
  AND p.environment IN (sqlc.slice('environments'))
  AND p.service IN (sqlc.slice('services'))
ORDER BY p.decide_time, p.service, p.id;

-- name: ChangeDeploymentDays :many
-- Counts ChangeDeployments per service and UTC day (its first
-- microsecond), in the database, from the same index.
SELECT service,
       CAST(finished_at - ((finished_at % 86400000000) + 86400000000) % 86400000000 AS INTEGER) AS day,
       COUNT(*) AS changes
FROM deployments
WHERE status = 'succeeded'
  AND finished_at >= @finished_from AND finished_at < @finished_to
  AND environment IN (sqlc.slice('environments'))
  AND service IN (sqlc.slice('services'))
GROUP BY service, day;
