-- name: InsertDeployment :one
-- Inserts a deployment unless one of its key is stored, when it writes
-- nothing and returns no row. caused_incident says whether an incident
-- recorded before names the revision as its cause (and is not corrected).
INSERT INTO deployments (
    service, environment, revision, status, started_at, finished_at, caused_incident, recorded_at
) VALUES (
    sqlc.arg(service), sqlc.arg(environment), sqlc.arg(revision), sqlc.arg(status),
    sqlc.arg(started_at), sqlc.arg(finished_at),
    EXISTS (SELECT 1 FROM incidents WHERE incidents.service = sqlc.arg(service) AND incidents.cause_revision = sqlc.arg(revision) AND incidents.charge_link = 'named'),
    sqlc.arg(recorded_at)
)
ON CONFLICT DO NOTHING
RETURNING id, caused_incident;

-- name: StoredDeployment :one
-- The deployment of a key, which InsertDeployment found stored, by the
-- unique index on (service, revision, environment, started_at).
SELECT id, status, finished_at
FROM deployments
WHERE service = @service AND revision = @revision AND environment = @environment AND started_at = @started_at;

-- name: InsertDeploymentCommit :execrows
-- Adds a commit to a deployment unless it lists the SHA already: a repeat
-- of the deployment adds only the commits it lacks. RecordDeployment runs
-- it once per commit, prepared once per deployment.
INSERT INTO deployment_commits (deployment_id, sha, committed_at)
VALUES (@deployment_id, @sha, @committed_at)
ON CONFLICT DO NOTHING;

-- name: CountDeployments :exec
-- Adds to what a service's deployments to an environment on a day count,
-- and appends to the day's lead times. || joins blobs as text, whose bytes
-- it keeps: the cast makes the result a blob again.
INSERT INTO deployment_days (service, environment, day, succeeded, failed, incident_causing, lead_times)
VALUES (@service, @environment, @day, @succeeded, @failed, @incident_causing, CAST(@lead_times AS BLOB))
ON CONFLICT (service, environment, day) DO UPDATE
SET succeeded = succeeded + excluded.succeeded,
    failed = failed + excluded.failed,
    incident_causing = incident_causing + excluded.incident_causing,
    lead_times = CAST(lead_times || excluded.lead_times AS BLOB);

-- name: MarkIncidentCauses :many
-- Marks the service's deployments of a revision that an incident names as
-- its cause, by the unique index on (service, revision, ...), and returns
-- those it marks, to count.
UPDATE deployments SET caused_incident = 1
WHERE service = @service AND revision = @revision AND caused_incident = 0
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
UPDATE incidents SET resolved_at = CAST(sqlc.arg(resolved_at) AS INTEGER)
WHERE service = sqlc.arg(service) AND id = sqlc.arg(id) AND resolved_at IS NULL;

-- name: InsertSupportTicket :execrows
-- Inserts a ticket unless its scope has one of its id.
INSERT INTO support_tickets (scope, id, category, team, opened_at, recorded_at)
VALUES (@scope, @id, @category, @team, @opened_at, @recorded_at)
ON CONFLICT DO NOTHING;

-- name: CountSupportTickets :many
-- Counts the tickets opened in [@opened_from, @opened_to) per category, by
-- the index on (opened_at, category).
SELECT category, COUNT(*) AS tickets
FROM support_tickets
WHERE opened_at >= @opened_from AND opened_at < @opened_to
GROUP BY category
ORDER BY category;

-- name: WholeDeploymentDays :many
-- What the services' deployments to the environments on the whole days in
-- [@day_from, @day_to) count, one row per service, environment and day, by
-- the primary key. The slices come last, in the order sqlc numbers them:
-- sqlc numbers the other parameters, which their expansion would shift
-- were they first.
SELECT day, succeeded, failed, incident_causing, lead_times
FROM deployment_days
WHERE day >= @day_from AND day < @day_to
  AND environment IN (sqlc.slice('environments'))
  AND service IN (sqlc.slice('services'));

-- name: PartDayDeployments :many
-- Counts the services' deployments to the environments that finished in
-- [@finished_from, @finished_to), a part of a day, per UTC day, from the
-- index on (service, environment, finished_at, status, caused_incident)
-- alone. A day is its first microsecond (see DailyBilling).
SELECT CAST(finished_at - ((finished_at % 86400000000) + 86400000000) % 86400000000 AS INTEGER) AS day,
       CAST(SUM(status = 'succeeded') AS INTEGER) AS succeeded,
       CAST(SUM(status = 'failed') AS INTEGER) AS failed,
       CAST(SUM(status = 'succeeded' AND caused_incident) AS INTEGER) AS incident_causing
FROM deployments
WHERE finished_at >= @finished_from AND finished_at < @finished_to
  AND environment IN (sqlc.slice('environments'))
  AND service IN (sqlc.slice('services'))
GROUP BY day
ORDER BY day;

-- name: PartDayLeadTimes :many
-- The lead times of the commits of the services' successful deployments
-- to the environments that finished in [@finished_from, @finished_to), a
-- part of a day: the deployments from the index on (service, environment,
-- finished_at, ...), their commits by the primary key.
SELECT CAST(deployments.finished_at - deployment_commits.committed_at AS INTEGER) AS lead_time_us
FROM deployments
JOIN deployment_commits ON deployment_commits.deployment_id = deployments.id
WHERE deployments.status = 'succeeded'
  AND deployments.finished_at >= @finished_from AND deployments.finished_at < @finished_to
  AND deployments.environment IN (sqlc.slice('environments'))
  AND deployments.service IN (sqlc.slice('services'));

-- name: RestoreTimes :many
-- The restore times of the services' incidents resolved in
-- [@resolved_from, @resolved_to), from the index on (service, resolved_at,
-- opened_at) alone.
SELECT CAST(resolved_at - opened_at AS INTEGER) AS restore_us
FROM incidents
WHERE resolved_at >= CAST(sqlc.arg(resolved_from) AS INTEGER) AND resolved_at < CAST(sqlc.arg(resolved_to) AS INTEGER)
  AND service IN (sqlc.slice('services'));

-- name: TeamServiceNames :many
-- The names of a team's services in the catalog, by the index on (team,
-- golden_path).
SELECT name FROM services WHERE team = @team ORDER BY name;

-- name: ServiceNames :many
-- The names of every service in the catalog.
SELECT name FROM services ORDER BY name;
