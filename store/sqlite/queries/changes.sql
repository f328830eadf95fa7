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
-- [@decided_from, @decided_to), in decision then service order. A
-- service's promotions are read by the index on (service, id): a service
-- has few.
SELECT service, id, environment, revision, CAST(decide_time AS INTEGER) AS decide_time
FROM promotions
WHERE state = 'approved'
  AND decide_time >= CAST(@decided_from AS INTEGER) AND decide_time < CAST(@decided_to AS INTEGER)
  AND environment IN (sqlc.slice('environments'))
  AND service IN (sqlc.slice('services'))
ORDER BY decide_time, service, id;
