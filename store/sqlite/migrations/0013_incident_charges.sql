-- The deployment each incident is charged to, and how. charge_link is
-- 'named' for an incident that names its cause_revision (charged to the
-- service's deployments of that revision, as caused_incident has always
-- counted them), 'inferred' for one that names none, charged by time to
-- the last successful production deployment that finished within the
-- link window before it opened, 'corrected' when a person chose the
-- deployment (or none), and '' when it is charged to nothing.
-- charged_deployment_id is the deployment of an inferred or corrected
-- charge; NULL otherwise. deployments.caused_incident stays what reads
-- count: whether any incident is charged to the deployment.
ALTER TABLE incidents ADD COLUMN charged_deployment_id INTEGER REFERENCES deployments (id);
ALTER TABLE incidents ADD COLUMN charge_link TEXT NOT NULL DEFAULT ''
    CHECK (charge_link IN ('', 'named', 'inferred', 'corrected'));
-- Incidents recorded before keep their named charge; those that name no
-- revision stay charged to nothing, as they were counted, until a person
-- corrects them: the link window is a setting this file cannot read.
UPDATE incidents SET charge_link = 'named' WHERE cause_revision <> '';

-- The incidents charged to a deployment, as its charge is recounted.
CREATE INDEX incidents_charged ON incidents (charged_deployment_id);
-- A service's incidents by opening time: the drill-down's order, and the
-- incidents a new deployment may be charged for.
CREATE INDEX incidents_opened ON incidents (service, opened_at);
-- A service's deployments to any environment by finish time: the
-- drill-down's order.
CREATE INDEX deployments_finished ON deployments (service, finished_at, id);
