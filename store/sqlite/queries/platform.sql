-- name: FirstDeployments :many
-- Each catalog service's first successful deployment, to any environment,
-- when it finished in [@finished_from, @finished_to): the earliest of the
-- service's successful deployments in the period, unless one finished
-- before it. Both are ranges of the index on (service, finished_at,
-- environment) of successful deployments, read from the index alone.
SELECT services.name, services.create_time, CAST(MIN(deployments.finished_at) AS INTEGER) AS first_deployed_at
FROM services
JOIN deployments ON deployments.service = services.name
WHERE deployments.status = 'succeeded'
  AND deployments.finished_at >= @finished_from AND deployments.finished_at < @finished_to
  AND NOT EXISTS (
    SELECT 1 FROM deployments AS earlier
    WHERE earlier.service = services.name AND earlier.status = 'succeeded' AND earlier.finished_at < @finished_from
  )
GROUP BY services.name
ORDER BY services.name;

-- name: CountServices :many
-- Counts the catalog's services per team and golden-path status, from the
-- index on (team, golden_path) alone.
SELECT team, golden_path, COUNT(*) AS services
FROM services
GROUP BY team, golden_path
ORDER BY team, golden_path;

-- name: CountActiveServices :many
-- Counts per team and environment the catalog's services with a successful
-- deployment that finished in [@finished_from, @finished_to): one range of
-- the index on (service, finished_at, environment) of successful
-- deployments per service.
SELECT services.team, deployments.environment, COUNT(DISTINCT services.name) AS services
FROM services
JOIN deployments ON deployments.service = services.name
WHERE deployments.status = 'succeeded'
  AND deployments.finished_at >= @finished_from AND deployments.finished_at < @finished_to
GROUP BY services.team, deployments.environment
ORDER BY services.team, deployments.environment;
