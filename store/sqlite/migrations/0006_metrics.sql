-- Delivery events, kept as they arrive, from which DORA metrics are
-- computed. Times are unix microseconds, UTC. Service names are catalog
-- names, but no foreign key ties events to the catalog: a deleted catalog
-- entry leaves its history behind.
--
-- Deployments are idempotent on (service, environment, revision,
-- started_at): the unique index puts revision second, so that it also finds
-- the deployments of a revision an incident names. caused_incident is set
-- when an incident of the service names the deployment's revision as its
-- cause, by whichever of the two is recorded second, so that reads need no
-- join. The id is the rowid: without AUTOINCREMENT, as nothing pages by it.
CREATE TABLE deployments (
    id              INTEGER NOT NULL PRIMARY KEY,
    service         TEXT    NOT NULL,
    environment     TEXT    NOT NULL,
    revision        TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('succeeded', 'failed')),
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER NOT NULL,
    caused_incident BOOLEAN NOT NULL CHECK (caused_incident IN (0, 1)),
    recorded_at     INTEGER NOT NULL,
    CHECK (finished_at >= started_at)
);

CREATE UNIQUE INDEX deployments_key ON deployments (service, revision, environment, started_at);
-- A part-day's deployments of a set of services to one environment,
-- counted from the index alone, and joined by their id (the rowid, in every
-- index) to their commits.
CREATE INDEX deployments_window ON deployments (service, environment, finished_at, status, caused_incident);

-- What a window needs of each service's deployments to an environment on
-- a UTC day, kept as deployments are recorded and as incidents come to name
-- them: a window's whole days are read from here, one row per service and
-- day, and only its first and last part-days from deployments. day is the
-- day's first microsecond. lead_times holds the lead time of every commit of
-- the day's successful deployments, finish less commit time in
-- microseconds, as 8-byte big-endian integers in the order recorded: a
-- median cannot be summed, so the values themselves are kept.
CREATE TABLE deployment_days (
    service          TEXT    NOT NULL,
    environment      TEXT    NOT NULL,
    day              INTEGER NOT NULL,
    succeeded        INTEGER NOT NULL,
    failed           INTEGER NOT NULL,
    incident_causing INTEGER NOT NULL,
    lead_times       BLOB    NOT NULL,
    PRIMARY KEY (service, environment, day)
) WITHOUT ROWID;

-- The commits each deployment shipped.
CREATE TABLE deployment_commits (
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    sha           TEXT    NOT NULL,
    committed_at  INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, sha)
) WITHOUT ROWID;

-- Incidents, idempotent on the incident tool's id. resolved_at is NULL
-- while the incident is open. cause_revision is '' when the cause is not
-- known.
CREATE TABLE incidents (
    id             TEXT    NOT NULL PRIMARY KEY,
    service        TEXT    NOT NULL,
    opened_at      INTEGER NOT NULL,
    resolved_at    INTEGER CHECK (resolved_at >= opened_at),
    cause_revision TEXT    NOT NULL,
    recorded_at    INTEGER NOT NULL
);

-- A window's resolved incidents of a set of services, with their restore
-- times, read from the index alone.
CREATE INDEX incidents_resolved ON incidents (service, resolved_at, opened_at);
-- The incidents that name a revision of a service, looked up as a
-- deployment is recorded.
CREATE INDEX incidents_cause ON incidents (service, cause_revision);

-- Support tickets raised with the platform team, idempotent on the ticket
-- system's id. team is '' when the ticket names none.
CREATE TABLE support_tickets (
    id          TEXT    NOT NULL PRIMARY KEY,
    category    TEXT    NOT NULL,
    team        TEXT    NOT NULL,
    opened_at   INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
);

-- Tickets opened in a window, counted per category from the index alone.
CREATE INDEX support_tickets_opened ON support_tickets (opened_at, category);
