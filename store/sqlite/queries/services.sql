-- name: GetService :one
SELECT * FROM services WHERE name = ?;

-- name: ListServices :many
-- A NULL filter matches every service. Each filter is compared before it is
-- tested for NULL because sqlc types an argument by its first use.
SELECT * FROM services
WHERE name > sqlc.arg(after)
  AND (team = sqlc.narg(team) OR sqlc.narg(team) IS NULL)
  AND (system = sqlc.narg(system) OR sqlc.narg(system) IS NULL)
  AND (lifecycle = sqlc.narg(lifecycle) OR sqlc.narg(lifecycle) IS NULL)
  AND (golden_path = sqlc.narg(golden_path) OR sqlc.narg(golden_path) IS NULL)
  AND (EXISTS (
          SELECT 1 FROM service_tags
          WHERE service_tags.service_name = services.name AND service_tags.tag = sqlc.narg(tag)
      ) OR sqlc.narg(tag) IS NULL)
ORDER BY name
LIMIT sqlc.arg(max_services);

-- name: UpsertService :one
-- Inserts the service or replaces it, keeping its create time.
INSERT INTO services (
    name, title, description, type, lifecycle, owner, team, system,
    golden_path, source_template, labels, annotations, tags, links,
    provides_apis, consumes_apis, depends_on, etag, create_time, update_time
) VALUES (
    ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
)
ON CONFLICT (name) DO UPDATE SET
    title = excluded.title,
    description = excluded.description,
    type = excluded.type,
    lifecycle = excluded.lifecycle,
    owner = excluded.owner,
    team = excluded.team,
    system = excluded.system,
    golden_path = excluded.golden_path,
    source_template = excluded.source_template,
    labels = excluded.labels,
    annotations = excluded.annotations,
    tags = excluded.tags,
    links = excluded.links,
    provides_apis = excluded.provides_apis,
    consumes_apis = excluded.consumes_apis,
    depends_on = excluded.depends_on,
    etag = excluded.etag,
    update_time = excluded.update_time
RETURNING *;

-- name: InsertService :one
-- Inserts the service unless the name is taken: then it writes nothing and
-- returns no row.
INSERT INTO services (
    name, title, description, type, lifecycle, owner, team, system,
    golden_path, source_template, labels, annotations, tags, links,
    provides_apis, consumes_apis, depends_on, etag, create_time, update_time
) VALUES (
    ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
)
ON CONFLICT (name) DO NOTHING
RETURNING *;

-- name: DeleteServiceTags :exec
DELETE FROM service_tags WHERE service_name = ?;

-- name: InsertServiceTag :exec
-- A service may list a tag twice; it has one row for it.
INSERT INTO service_tags (service_name, tag) VALUES (?, ?)
ON CONFLICT DO NOTHING;

-- name: DeleteService :exec
DELETE FROM services WHERE name = ?;

-- name: ListTeams :many
-- A service without a team has an empty team, which never sorts after `after`.
-- sqlc types SUM as a float: the cast makes it an integer.
SELECT team, COUNT(*) AS service_count, CAST(SUM(golden_path) AS INTEGER) AS golden_path_service_count
FROM services
WHERE team > sqlc.arg(after)
GROUP BY team
ORDER BY team
LIMIT sqlc.arg(max_teams);

-- name: GetRetiredService :one
SELECT team FROM retired_services WHERE name = ?;

-- name: RetireService :exec
-- Leaves a deleted service's name to its team.
INSERT INTO retired_services (name, team, retire_time) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET team = excluded.team, retire_time = excluded.retire_time;

-- name: DeleteRetiredService :execrows
DELETE FROM retired_services WHERE name = ?;
