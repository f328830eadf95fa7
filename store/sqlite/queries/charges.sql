-- name: InferredChargeDeployment :one
-- The last successful deployment of the service to any of the environments
-- that finished in [@finished_from, @finished_to]: the deployment an
-- incident naming no revision is charged to by time. Ties go to the one
-- recorded last.
SELECT id FROM deployments
WHERE service = @service AND status = 'succeeded'
  AND finished_at >= @finished_from AND finished_at <= @finished_to
  AND environment IN (sqlc.slice('environments'))
ORDER BY finished_at DESC, id DESC
LIMIT 1;

-- name: IncidentsToInfer :many
-- The service's incidents that name no revision and no person has
-- corrected, opened in [@opened_from, @opened_to]: those whose inferred
-- charge a deployment finishing then may change.
SELECT id, opened_at, charged_deployment_id FROM incidents
WHERE service = @service AND cause_revision = '' AND charge_link IN ('', 'inferred')
  AND opened_at >= @opened_from AND opened_at <= @opened_to;

-- name: IncidentCharge :one
SELECT charge_link, charged_deployment_id, cause_revision FROM incidents WHERE service = @service AND id = @id;

-- name: ChargeIncident :exec
UPDATE incidents SET charged_deployment_id = @charged_deployment_id, charge_link = @charge_link
WHERE service = @service AND id = @id;

-- name: DeploymentCharge :one
-- A deployment as its day counts it, with whether any incident is charged
-- to it now: one that names its revision, or one inferred or corrected to
-- it.
SELECT environment, status, finished_at, caused_incident,
       CAST(EXISTS (
           SELECT 1 FROM incidents
           WHERE incidents.service = deployments.service
             AND ((incidents.charge_link = 'named' AND incidents.cause_revision = deployments.revision)
               OR (incidents.charge_link IN ('inferred', 'corrected') AND incidents.charged_deployment_id = deployments.id))
       ) AS BOOLEAN) AS charged
FROM deployments WHERE deployments.id = @id;

-- name: SetCausedIncident :exec
UPDATE deployments SET caused_incident = @caused_incident WHERE id = @id;

-- name: RevisionDeployments :many
-- The service's deployments of a revision, by the unique index on
-- (service, revision, ...), in no order: ordered by finish, the planner
-- would rather walk every deployment of the service by the index on
-- (service, finished_at, id) than sort a revision's few.
SELECT id, environment, revision, status, finished_at FROM deployments
WHERE service = @service AND revision = @revision;

-- name: GetDeploymentRef :one
SELECT id, environment, revision, status, finished_at FROM deployments WHERE id = @id;

-- name: ListDeployments :many
-- A page of the services' deployments that finished in [@finished_from,
-- @finished_to), newest first, after the cursor (@after_finished,
-- @after_id); '' filters match everything. The services are a JSON array:
-- sqlc.slice would shift the numbered limit after it.
SELECT id, service, environment, revision, status, started_at, finished_at
FROM deployments
WHERE finished_at >= @finished_from AND finished_at < @finished_to
  AND (finished_at < @after_finished OR (finished_at = @after_finished AND id < @after_id))
  AND (CAST(@environment AS TEXT) = '' OR environment = @environment)
  AND (CAST(@status AS TEXT) = '' OR status = @status)
  AND service IN (SELECT value FROM json_each(CAST(@services_json AS TEXT)))
ORDER BY finished_at DESC, id DESC
LIMIT @page_limit;

-- name: DeploymentCommits :many
SELECT deployment_id, sha, committed_at FROM deployment_commits
WHERE deployment_id IN (sqlc.slice('ids'))
ORDER BY deployment_id, committed_at, sha;

-- name: IncidentsChargedTo :many
-- The incidents inferred or corrected to the deployments.
SELECT service, id, opened_at, resolved_at, cause_revision, charge_link, charged_deployment_id
FROM incidents
WHERE charge_link IN ('inferred', 'corrected') AND charged_deployment_id IN (sqlc.slice('ids'))
ORDER BY opened_at DESC, id DESC;

-- name: IncidentsNaming :many
-- The service's incidents charged by naming a revision, by the index on
-- (service, cause_revision), in no order: ListDeployments sorts a
-- deployment's incidents together.
SELECT service, id, opened_at, resolved_at, cause_revision, charge_link, charged_deployment_id
FROM incidents
WHERE service = @service AND cause_revision = @revision AND charge_link = 'named';

-- name: ListIncidents :many
-- A page of the services' incidents opened in [@opened_from, @opened_to),
-- newest first, after the cursor (@after_opened, @after_service,
-- @after_id); @state '' matches every incident, 'open' and 'resolved'
-- those that are. The services are a JSON array, as for ListDeployments.
SELECT service, id, opened_at, resolved_at, cause_revision, charge_link, charged_deployment_id
FROM incidents
WHERE opened_at >= @opened_from AND opened_at < @opened_to
  AND (opened_at < @after_opened OR (opened_at = @after_opened AND (service < @after_service OR (service = @after_service AND id < @after_id))))
  AND (CAST(@state AS TEXT) = '' OR (CAST(@state AS TEXT) = 'open' AND resolved_at IS NULL) OR (CAST(@state AS TEXT) = 'resolved' AND resolved_at IS NOT NULL))
  AND service IN (SELECT value FROM json_each(CAST(@services_json AS TEXT)))
ORDER BY opened_at DESC, service DESC, id DESC
LIMIT @page_limit;

-- name: OpenIncidentsOfRevision :many
-- The service's open incidents charged to a deployment of the revision:
-- named, or inferred or corrected to one; in no order, as the service's
-- incidents are many and those open few.
SELECT incidents.id, incidents.service, incidents.opened_at, incidents.resolved_at, incidents.cause_revision
FROM incidents
LEFT JOIN deployments ON deployments.id = incidents.charged_deployment_id
WHERE incidents.service = @service AND incidents.resolved_at IS NULL
  AND ((incidents.charge_link = 'named' AND incidents.cause_revision = @revision)
    OR (incidents.charge_link IN ('inferred', 'corrected') AND deployments.revision = @revision));
