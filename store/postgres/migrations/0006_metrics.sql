-- Delivery events, kept as they arrive, from which DORA metrics are
-- computed. Service names are catalog names, in byte order as in services,
-- but no foreign key ties events to the catalog: a deleted catalog entry
-- leaves its history behind.
--
-- Deployments are idempotent on (service, environment, revision,
-- started_at): the unique index puts revision second, so that it also finds
-- the deployments of a revision an incident names. caused_incident is set
-- when an incident of the service names the deployment's revision as its
-- cause, by whichever of the two is recorded second (writers of a service's
-- events take turns on an advisory lock), so that reads need no join.
CREATE TABLE deployments (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service         text COLLATE "C" NOT NULL,
    environment     text        NOT NULL,
    revision        text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('succeeded', 'failed')),
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    caused_incident boolean     NOT NULL,
    recorded_at     timestamptz NOT NULL,
    CHECK (finished_at >= started_at)
);

CREATE UNIQUE INDEX deployments_key ON deployments (service, revision, environment, started_at);
-- A part-day's deployments of a set of services to one environment,
-- counted by an index-only scan, and joined by their id to their commits.
CREATE INDEX deployments_window ON deployments (service, environment, finished_at)
    INCLUDE (status, caused_incident, id);

-- What a window needs of each service's deployments to an environment on
-- a UTC day (day is its UTC midnight), kept as deployments are recorded and
-- as incidents come to name them: a window's whole days are read from here,
-- one row per service and day, and only its first and last part-days from
-- deployments. lead_times holds the lead time of every commit of the day's
-- successful deployments, finish less commit time in microseconds, as
-- 8-byte big-endian integers (int8send's) in the order recorded: a median
-- cannot be summed, so the values themselves are kept; as bytes, a window's
-- are joined by string_agg rather than unnested and gathered again.
CREATE TABLE deployment_days (
    service          text COLLATE "C" NOT NULL,
    environment      text        NOT NULL,
    day              timestamptz NOT NULL,
    succeeded        bigint      NOT NULL,
    failed           bigint      NOT NULL,
    incident_causing bigint      NOT NULL,
    lead_times       bytea       NOT NULL,
    PRIMARY KEY (service, environment, day)
);

-- The commits each deployment shipped.
CREATE TABLE deployment_commits (
    deployment_id bigint      NOT NULL REFERENCES deployments (id),
    sha           text        NOT NULL,
    committed_at  timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, sha)
);

-- Incidents, idempotent on the incident tool's id. resolved_at is NULL
-- while the incident is open. cause_revision is '' when the cause is not
-- known.
CREATE TABLE incidents (
    id             text        NOT NULL PRIMARY KEY,
    service        text COLLATE "C" NOT NULL,
    opened_at      timestamptz NOT NULL,
    resolved_at    timestamptz CHECK (resolved_at >= opened_at),
    cause_revision text        NOT NULL,
    recorded_at    timestamptz NOT NULL
);

-- A window's resolved incidents of a set of services, with their restore
-- times, read by an index-only scan.
CREATE INDEX incidents_resolved ON incidents (service, resolved_at) INCLUDE (opened_at);
-- The incidents that name a revision of a service, looked up as a
-- deployment is recorded.
CREATE INDEX incidents_cause ON incidents (service, cause_revision);

-- Support tickets raised with the platform team, idempotent on the ticket
-- system's id. team is '' when the ticket names none.
CREATE TABLE support_tickets (
    id          text        NOT NULL PRIMARY KEY,
    category    text COLLATE "C" NOT NULL,
    team        text        NOT NULL,
    opened_at   timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);

-- Tickets opened in a window, counted per category by an index-only scan.
CREATE INDEX support_tickets_opened ON support_tickets (opened_at) INCLUDE (category);
