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
-- [@decided_from, @decided_to) that no successful deployment of their
-- service, environment and revision finished in the period, in decision
-- then service order, by the index on (service, id): a service has few.
SELECT p.service, p.id, p.environment, p.revision, p.decide_time::timestamptz AS decide_time
FROM promotions p
WHERE p.service = ANY(@services::text[]) AND p.environment = ANY(@environments::text[])
  AND p.state = 'approved'
  AND p.decide_time >= @decided_from::timestamptz AND p.decide_time < @decided_to::timestamptz
  AND NOT EXISTS (
    SELECT 1 FROM deployments d
    WHERE d.service = p.service AND d.revision = p.revision AND d.environment = p.environment
      AND d.status = 'succeeded'
      AND d.finished_at >= @decided_from::timestamptz AND d.finished_at < @decided_to::timestamptz
  )
ORDER BY p.decide_time, p.service, p.id;

-- name: ChangeDeploymentDays :many
-- Counts ChangeDeployments per service and UTC day, in the database, from
-- the same index.
SELECT service, (date_trunc('day', finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::timestamptz AS day, count(*) AS changes
FROM deployments
WHERE service = ANY(@services::text[]) AND environment = ANY(@environments::text[])
  AND status = 'succeeded'
  AND finished_at >= @finished_from AND finished_at < @finished_to
GROUP BY 1, 2;
