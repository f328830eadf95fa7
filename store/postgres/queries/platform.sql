-- name: FirstDeployments :many
-- Each catalog service's first successful deployment, to any environment,
-- when it finished in [@finished_from, @finished_to): min() becomes one
-- look at the start of the service's range of the index on (service,
-- finished_at) of successful deployments. The lateral join computes it
-- once per service, where a subquery in the select list would run again
-- for each condition on it.
SELECT services.name, services.create_time, firsts.first_deployed_at::timestamptz AS first_deployed_at
FROM services
CROSS JOIN LATERAL (
    SELECT min(deployments.finished_at) AS first_deployed_at
    FROM deployments
    WHERE deployments.service = services.name AND deployments.status = 'succeeded'
) AS firsts
WHERE firsts.first_deployed_at >= @finished_from::timestamptz AND firsts.first_deployed_at < @finished_to::timestamptz
ORDER BY services.name;

-- name: CountServices :many
-- Counts the catalog's services per team and golden-path status, by an
-- index-only scan of the index on (team, golden_path).
SELECT team, golden_path, count(*) AS services
FROM services
GROUP BY team, golden_path
ORDER BY team, golden_path;

-- name: CountActiveServices :many
-- Counts per team and environment the catalog's services with a successful
-- deployment that finished in [@finished_from, @finished_to), by index-only
-- scans of the index on (service, finished_at) of successful deployments.
-- Environments sort in byte order, as SQLite and Go compare strings.
SELECT services.team, deployments.environment, count(DISTINCT services.name) AS services
FROM services
JOIN deployments ON deployments.service = services.name
WHERE deployments.status = 'succeeded'
  AND deployments.finished_at >= @finished_from AND deployments.finished_at < @finished_to
GROUP BY services.team, deployments.environment
ORDER BY services.team, deployments.environment COLLATE "C";
