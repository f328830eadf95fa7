-- The deployment each incident is charged to, and how (see the SQLite
-- migration of the same number for the meaning of each link).
-- deployments.caused_incident stays what reads count: whether any incident
-- is charged to the deployment.
ALTER TABLE incidents
    ADD COLUMN charged_deployment_id bigint REFERENCES deployments (id),
    ADD COLUMN charge_link text NOT NULL DEFAULT ''
        CHECK (charge_link IN ('', 'named', 'inferred', 'corrected'));
-- Incidents recorded before keep their named charge; those that name no
-- revision stay charged to nothing until a person corrects them: the link
-- window is a setting this file cannot read.
UPDATE incidents SET charge_link = 'named' WHERE cause_revision <> '';

CREATE INDEX incidents_charged ON incidents (charged_deployment_id);
CREATE INDEX incidents_opened ON incidents (service, opened_at);
CREATE INDEX deployments_finished ON deployments (service, finished_at, id);
