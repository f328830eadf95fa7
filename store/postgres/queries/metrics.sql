-- name: LockServiceEvents :exec
-- Makes the transactions that record a service's deployments and incidents
-- take turns, until they end, so that whichever of a deployment and the
-- incident naming its revision commits second sees the first and marks the
-- deployment. The two-key form keeps clear of the migrations' lock, which
-- takes the one-key form.
SELECT pg_advisory_xact_lock(@lock_class::integer, hashtext(@service::text));

-- name: InsertDeployment :one
-- Inserts a deployment unless one of its key is stored, when it writes
-- nothing and returns no row. caused_incident says whether an incident
-- recorded before names the revision as its cause (and is not corrected).
INSERT INTO deployments (
    service, environment, revision, status, started_at, finished_at, caused_incident, recorded_at
) VALUES (
    @service, @environment, @revision, @status, @started_at, @finished_at,
    EXISTS (SELECT 1 FROM incidents WHERE incidents.service = @service AND incidents.cause_revision = @revision AND incidents.charge_link = 'named'),
    @recorded_at
)
ON CONFLICT DO NOTHING
RETURNING id, caused_incident;

-- name: CountDeployments :exec
-- Adds to what a service's deployments to an environment on a day count,
-- and appends to the day's lead times.
INSERT INTO deployment_days (service, environment, day, succeeded, failed, incident_causing, lead_times)
VALUES (@service, @environment, @day, @succeeded, @failed, @incident_causing, @lead_times::bytea)
ON CONFLICT (service, environment, day) DO UPDATE
SET succeeded = deployment_days.succeeded + excluded.succeeded,
    failed = deployment_days.failed + excluded.failed,
    incident_causing = deployment_days.incident_causing + excluded.incident_causing,
    lead_times = deployment_days.lead_times || excluded.lead_times;

-- name: StoredDeployment :one
-- The deployment of a key, which InsertDeployment found stored, by the
-- unique index on (service, revision, environment, started_at).
SELECT id, status, finished_at
FROM deployments
WHERE service = @service AND revision = @revision AND environment = @environment AND started_at = @started_at;

-- name: InsertDeploymentCommits :many
-- Adds a deployment's commits at once, from parallel arrays of equal
-- length (which unnest zips), but those whose SHAs it lists already: a
-- repeat of the deployment adds only the commits it lacks. Returns the
-- SHAs it added.
INSERT INTO deployment_commits (deployment_id, sha, committed_at)
SELECT @deployment_id::bigint, unnest(@shas::text[]), unnest(@committed_ats::timestamptz[])
ON CONFLICT DO NOTHING
RETURNING sha;

-- name: MarkIncidentCauses :many
-- Marks the service's deployments of a revision that an incident names as
-- its cause, by the unique index on (service, revision, ...), and returns
-- those it marks, to count.
UPDATE deployments SET caused_incident = true
WHERE service = @service AND revision = @revision AND NOT caused_incident
RETURNING environment, status, finished_at;

-- name: InsertIncident :execrows
-- Inserts an incident unless its service has one of its id.
INSERT INTO incidents (id, service, opened_at, resolved_at, cause_revision, recorded_at, charge_link)
VALUES (@id, @service, @opened_at, @resolved_at, @cause_revision, @recorded_at, @charge_link)
ON CONFLICT DO NOTHING;

-- name: GetIncident :one
SELECT id, service, opened_at, resolved_at, cause_revision FROM incidents WHERE service = @service AND id = @id;

-- name: FindIncidents :many
-- Every service's incident of an id, by the index on id.
SELECT id, service, opened_at, resolved_at, cause_revision FROM incidents WHERE id = @id ORDER BY service;

-- name: ResolveIncident :execrows
-- Resolves the incident if it is open.
UPDATE incidents SET resolved_at = @resolved_at::timestamptz
WHERE service = @service AND id = @id AND resolved_at IS NULL;

-- name: InsertSupportTicket :execrows
-- Inserts a ticket unless its scope has one of its id.
INSERT INTO support_tickets (scope, id, category, team, opened_at, recorded_at)
VALUES (@scope, @id, @category, @team, @opened_at, @recorded_at)
ON CONFLICT DO NOTHING;

-- name: CountSupportTickets :many
-- Counts the tickets opened in [@opened_from, @opened_to) per category, by
-- the index on opened_at.
SELECT category, count(*) AS tickets
FROM support_tickets
WHERE opened_at >= @opened_from AND opened_at < @opened_to
GROUP BY category
ORDER BY category;

-- name: DeliveryFacts :one
-- What DORA metrics are computed from, for the services' deployments to
-- any of @environments and their incidents in [@period_from, @period_to),
-- in one round trip:
--   - the deployments per UTC day, as parallel arrays in day order, and the
--     lead times of the successful ones' commits, as deployment_days keeps
--     them (8-byte big-endian microseconds): for the whole days
--     [@whole_from, @whole_to) from deployment_days, by the primary key; for
--     the part-days [@head_from, @head_to) and [@tail_from, @tail_to) from
--     the deployments, by an index-only scan of the index on (service,
--     environment, finished_at), joined to their commits by the primary
--     key;
--   - the restore times of the incidents resolved in the period, by an
--     index-only scan.
-- An empty span is a range whose ends are equal.
WITH whole_days AS (
    SELECT deployment_days.day, deployment_days.succeeded, deployment_days.failed,
           deployment_days.incident_causing, deployment_days.lead_times
    FROM deployment_days
    WHERE deployment_days.service = ANY(@services::text[]) AND deployment_days.environment = ANY(@environments::text[])
      AND deployment_days.day >= @whole_from::timestamptz AND deployment_days.day < @whole_to::timestamptz
),
part_days AS (
    SELECT d.id, d.status, d.caused_incident, d.finished_at
    FROM deployments d
    WHERE d.service = ANY(@services::text[]) AND d.environment = ANY(@environments::text[])
      AND d.finished_at >= @head_from::timestamptz AND d.finished_at < @head_to::timestamptz
    UNION ALL
    SELECT d.id, d.status, d.caused_incident, d.finished_at
    FROM deployments d
    WHERE d.service = ANY(@services::text[]) AND d.environment = ANY(@environments::text[])
      AND d.finished_at >= @tail_from::timestamptz AND d.finished_at < @tail_to::timestamptz
),
days AS (
    SELECT day, sum(succeeded)::bigint AS succeeded, sum(failed)::bigint AS failed,
           sum(incident_causing)::bigint AS incident_causing
    FROM (
        SELECT whole_days.day, whole_days.succeeded, whole_days.failed, whole_days.incident_causing
        FROM whole_days
        UNION ALL
        SELECT CAST(date_trunc('day', part_days.finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS timestamptz),
               (part_days.status = 'succeeded')::int, (part_days.status = 'failed')::int,
               (part_days.status = 'succeeded' AND part_days.caused_incident)::int
        FROM part_days
    ) counted
    GROUP BY day
)
SELECT
    ARRAY(SELECT days.day FROM days ORDER BY days.day)::timestamptz[] AS days,
    ARRAY(SELECT days.succeeded FROM days ORDER BY days.day)::bigint[] AS succeeded,
    ARRAY(SELECT days.failed FROM days ORDER BY days.day)::bigint[] AS failed,
    ARRAY(SELECT days.incident_causing FROM days ORDER BY days.day)::bigint[] AS incident_causing,
    CAST((
        SELECT coalesce(string_agg(whole_days.lead_times, ''::bytea), ''::bytea) FROM whole_days
    ) || (
        SELECT coalesce(string_agg(int8send((extract(epoch FROM part_days.finished_at - c.committed_at) * 1000000)::bigint), ''::bytea), ''::bytea)
        FROM part_days JOIN deployment_commits c ON c.deployment_id = part_days.id
        WHERE part_days.status = 'succeeded'
    ) AS bytea) AS lead_times,
    ARRAY(
        SELECT (extract(epoch FROM i.resolved_at - i.opened_at) * 1000000)::bigint FROM incidents i
        WHERE i.service = ANY(@services::text[])
          AND i.resolved_at >= @period_from::timestamptz AND i.resolved_at < @period_to::timestamptz
    )::bigint[] AS restore_times;

-- name: TeamServiceNames :many
-- The names of a team's services in the catalog, by the index on (team,
-- golden_path).
SELECT name FROM services WHERE team = @team ORDER BY name;

-- name: ServiceNames :many
-- The names of every service in the catalog.
SELECT name FROM services ORDER BY name;
