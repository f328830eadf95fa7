-- Ids one team chooses never reach another team's records.
--
-- Incidents are a service's: the incident tool's id is unique within the
-- service, so that two services may each have an INC-1043.
ALTER TABLE incidents DROP CONSTRAINT incidents_pkey;
ALTER TABLE incidents ADD PRIMARY KEY (service, id);
-- An incident named by its id alone is looked up among every service's.
CREATE INDEX incidents_id ON incidents (id);

-- Support tickets are unique within their scope: `teams/{team}` for a
-- ticket of a team, `principals/{principal}` for one that names no team,
-- recorded by that principal. Tickets recorded before without a team have
-- the scope '': who recorded them was not kept.
ALTER TABLE support_tickets ADD COLUMN scope text COLLATE "C" NOT NULL DEFAULT '';
UPDATE support_tickets SET scope = 'teams/' || team WHERE team <> '';
ALTER TABLE support_tickets ALTER COLUMN scope DROP DEFAULT;
ALTER TABLE support_tickets DROP CONSTRAINT support_tickets_pkey;
ALTER TABLE support_tickets ADD PRIMARY KEY (scope, id);

-- Request ids are the caller's: a create or a promotion is idempotent on
-- its requester and request id, so that another caller's request id is
-- another request. Ids were unique before, so they are under the new keys.
DROP INDEX provisionings_request_id;
CREATE UNIQUE INDEX provisionings_request_id ON provisionings (requester, request_id) WHERE request_id <> '';
DROP INDEX promotions_request_id;
CREATE UNIQUE INDEX promotions_request_id ON promotions (service, requester, request_id) WHERE request_id <> '';

-- A service deleted from the catalog leaves its name to the team that held
-- it, with its history: deployments, incidents, cost and provisioning are
-- kept by name. Only that team registers the name again (which removes the
-- row), unless an admin hands the name to another. team is '' when the
-- name's holder is not known: only an admin gives such a name out.
CREATE TABLE retired_services (
    name        text COLLATE "C" NOT NULL PRIMARY KEY,
    team        text        NOT NULL,
    retire_time timestamptz NOT NULL
);

-- Names with history left behind by services deleted before names were
-- retired: a provisioning's team is its holder, else none is known.
INSERT INTO retired_services (name, team, retire_time)
SELECT names.name, coalesce((SELECT p.spec->>'team' FROM provisionings p WHERE p.service = names.name), ''), now()
FROM (
    SELECT service AS name FROM provisionings
    UNION SELECT service FROM deployments
    UNION SELECT service FROM incidents
) AS names
WHERE names.name NOT IN (SELECT name FROM services);
