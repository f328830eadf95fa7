-- What Cairn was asked to provision: one row per service, written before
-- anything is applied to the cluster. The spec is one JSON document.
-- generation moves up with every change of the spec, and
-- applied_generation follows it as the reconciler applies it. Times are
-- unix microseconds, UTC; ready_time is NULL until every resource was first
-- ready.
--
-- A provisioning does not refer to its catalog entry: the catalog keeps
-- what the portal shows, which may be deleted and registered again, while a
-- provisioning records what is on the cluster.
CREATE TABLE provisionings (
    service            TEXT    NOT NULL PRIMARY KEY,
    request_id         TEXT    NOT NULL,
    requester          TEXT    NOT NULL,
    spec               TEXT    NOT NULL,
    generation         INTEGER NOT NULL,
    applied_generation INTEGER NOT NULL,
    create_time        INTEGER NOT NULL,
    update_time        INTEGER NOT NULL,
    ready_time         INTEGER
);

-- CreateProvisioning is idempotent on its request id, when it has one.
CREATE UNIQUE INDEX provisionings_request_id ON provisionings (request_id) WHERE request_id <> '';

-- Requests to deploy a revision of a provisioned service to production,
-- pending until approved or denied. AUTOINCREMENT keeps ids increasing for
-- good, as in audit_events. decide_time is NULL while pending.
CREATE TABLE promotions (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    service     TEXT    NOT NULL REFERENCES provisionings (service),
    request_id  TEXT    NOT NULL,
    revision    TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
    requester   TEXT    NOT NULL,
    decider     TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    create_time INTEGER NOT NULL,
    decide_time INTEGER
);

-- CreatePromotion is idempotent on its service and request id, when it has
-- one.
CREATE UNIQUE INDEX promotions_request_id ON promotions (service, request_id) WHERE request_id <> '';
-- ListPromotions walks a service's promotions down from its cursor. The
-- index also serves the foreign key.
CREATE INDEX promotions_service ON promotions (service, id);
