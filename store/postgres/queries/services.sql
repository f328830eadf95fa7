-- name: GetService :one
SELECT * FROM services WHERE name = @name;

-- name: LockService :one
-- Reads the service and locks its row until the transaction ends: writers
-- of one service take turns.
SELECT * FROM services WHERE name = @name FOR UPDATE;

-- name: ListServices :many
-- A NULL filter matches every service.
SELECT * FROM services
WHERE name > @after
  AND (sqlc.narg(team)::text IS NULL OR team = sqlc.narg(team))
  AND (sqlc.narg(system)::text IS NULL OR system = sqlc.narg(system))
  AND (sqlc.narg(lifecycle)::text IS NULL OR lifecycle = sqlc.narg(lifecycle))
  AND (sqlc.narg(golden_path)::boolean IS NULL OR golden_path = sqlc.narg(golden_path))
  AND (sqlc.narg(tag)::text IS NULL OR EXISTS (
          SELECT 1 FROM service_tags
          WHERE service_tags.service_name = services.name AND service_tags.tag = sqlc.narg(tag)
      ))
ORDER BY name
LIMIT @max_services::bigint;

-- name: UpsertService :one
-- Inserts the service, or replaces the one of the same name, keeping its
-- create time.
INSERT INTO services (
    name, title, description, type, lifecycle, owner, team, system,
    golden_path, source_template, labels, annotations, tags, links,
    provides_apis, consumes_apis, depends_on, etag, create_time, update_time
) VALUES (
    @name, @title, @description, @type, @lifecycle, @owner, @team, @system,
    @golden_path, @source_template, @labels, @annotations, @tags, @links,
    @provides_apis, @consumes_apis, @depends_on, @etag, @create_time, @update_time
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
-- Inserts the service unless the name is taken: then it writes nothing,
-- returns no row, and leaves the taken row locked, as ON CONFLICT DO UPDATE
-- locks the rows it conflicts with, whether its WHERE lets it update them
-- or not.
INSERT INTO services (
    name, title, description, type, lifecycle, owner, team, system,
    golden_path, source_template, labels, annotations, tags, links,
    provides_apis, consumes_apis, depends_on, etag, create_time, update_time
) VALUES (
    @name, @title, @description, @type, @lifecycle, @owner, @team, @system,
    @golden_path, @source_template, @labels, @annotations, @tags, @links,
    @provides_apis, @consumes_apis, @depends_on, @etag, @create_time, @update_time
)
ON CONFLICT (name) DO UPDATE SET name = excluded.name
WHERE false
RETURNING *;

-- name: DeleteServiceTags :exec
DELETE FROM service_tags WHERE service_name = @service_name;

-- name: InsertServiceTags :exec
-- A service may list a tag twice; it has one row for it.
INSERT INTO service_tags (service_name, tag)
SELECT @service_name, unnest(@tags::text[])
ON CONFLICT DO NOTHING;

-- name: DeleteService :exec
DELETE FROM services WHERE name = @name;

-- name: ListTeams :many
-- A service without a team has an empty team, which never sorts after @after.
SELECT team, COUNT(*) AS service_count, COUNT(*) FILTER (WHERE golden_path) AS golden_path_service_count
FROM services
WHERE team > @after
GROUP BY team
ORDER BY team
LIMIT @max_teams::bigint;

-- name: GetRetiredService :one
SELECT team FROM retired_services WHERE name = @name;

-- name: RetireService :exec
-- Leaves a deleted service's name to its team.
INSERT INTO retired_services (name, team, retire_time) VALUES (@name, @team, @retire_time)
ON CONFLICT (name) DO UPDATE SET team = excluded.team, retire_time = excluded.retire_time;

-- name: DeleteRetiredService :execrows
DELETE FROM retired_services WHERE name = @name;
