-- Ids one team chooses never reach another team's records.
--
-- Incidents are a service's: the incident tool's id is unique within the
-- service, so that two services may each have an INC-1043. The table is
-- made again with its new key, its rows carried over.
CREATE TABLE incidents_scoped (
    service        TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    opened_at      INTEGER NOT NULL,
    resolved_at    INTEGER CHECK (resolved_at >= opened_at),
    cause_revision TEXT    NOT NULL,
    recorded_at    INTEGER NOT NULL,
    PRIMARY KEY (service, id)
);
INSERT INTO incidents_scoped (service, id, opened_at, resolved_at, cause_revision, recorded_at)
SELECT service, id, opened_at, resolved_at, cause_revision, recorded_at FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_scoped RENAME TO incidents;
CREATE INDEX incidents_resolved ON incidents (service, resolved_at, opened_at);
CREATE INDEX incidents_cause ON incidents (service, cause_revision);
-- An incident named by its id alone is looked up among every service's.
CREATE INDEX incidents_id ON incidents (id);

-- Support tickets are unique within their scope: `teams/{team}` for a
-- ticket of a team, `principals/{principal}` for one that names no team,
-- recorded by that principal. Tickets recorded before without a team have
-- the scope '': who recorded them was not kept.
CREATE TABLE support_tickets_scoped (
    scope       TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    team        TEXT    NOT NULL,
    opened_at   INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (scope, id)
);
INSERT INTO support_tickets_scoped (scope, id, category, team, opened_at, recorded_at)
SELECT CASE WHEN team <> '' THEN 'teams/' || team ELSE '' END, id, category, team, opened_at, recorded_at
FROM support_tickets;
DROP TABLE support_tickets;
ALTER TABLE support_tickets_scoped RENAME TO support_tickets;
CREATE INDEX support_tickets_opened ON support_tickets (opened_at, category);

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
    name        TEXT    NOT NULL PRIMARY KEY,
    team        TEXT    NOT NULL,
    retire_time INTEGER NOT NULL
);

-- Names with history left behind by services deleted before names were
-- retired: a provisioning's team is its holder, else none is known.
INSERT INTO retired_services (name, team, retire_time)
SELECT name, coalesce((SELECT json_extract(spec, '$.team') FROM provisionings WHERE provisionings.service = names.name), ''),
       CAST(strftime('%s', 'now') AS INTEGER) * 1000000
FROM (
    SELECT service AS name FROM provisionings
    UNION SELECT service FROM deployments
    UNION SELECT service FROM incidents
) AS names
WHERE name NOT IN (SELECT name FROM services);
