-- name: ChangeDeployments :many
-- The services' successful deployments to the environments that finished
-- in [@finished_from, @finished_to), by the index on (service,
-- environment, finished_at, ...), in finish then service order.
SELECT service, environment, revision, finished_at
FROM deployments
WHERE service = ANY(@services::text[]) AND environment = ANY(@environments::text[])
  AND status = 'succeeded'
  AND finished_at >= @finished_from AND finished_at < @finished_to
ORDER BY finished_at, service, environment, revision;

-- name: ChangePromotions :many
-- The services' promotions to the environments approved in
-- [@decided_from, @decided_to), in decision then service order, by the
-- index on (service, id): a service has few.
SELECT service, id, environment, revision, decide_time::timestamptz AS decide_time
FROM promotions
WHERE service = ANY(@services::text[]) AND environment = ANY(@environments::text[])
  AND state = 'approved'
  AND decide_time >= @decided_from::timestamptz AND decide_time < @decided_to::timestamptz
ORDER BY decide_time, service, id;
