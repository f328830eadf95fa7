-- What Cairn was asked to provision: one row per service, written before
-- anything is applied to the cluster. The spec is one JSONB document.
-- generation moves up with every change of the spec, and
-- applied_generation follows it as the reconciler applies it. ready_time is
-- NULL until every resource was first ready.
--
-- A provisioning does not refer to its catalog entry: the catalog keeps
-- what the portal shows, which may be deleted and registered again, while a
-- provisioning records what is on the cluster. Service names sort in byte
-- order, as in services.
CREATE TABLE provisionings (
    service            text COLLATE "C" NOT NULL PRIMARY KEY,
    request_id         text        NOT NULL,
    requester          text        NOT NULL,
    spec               jsonb       NOT NULL,
    generation         bigint      NOT NULL,
    applied_generation bigint      NOT NULL,
    create_time        timestamptz NOT NULL,
    update_time        timestamptz NOT NULL,
    ready_time         timestamptz
);

-- CreateProvisioning is idempotent on its request id, when it has one.
CREATE UNIQUE INDEX provisionings_request_id ON provisionings (request_id) WHERE request_id <> '';

-- Requests to deploy a revision of a provisioned service to production,
-- pending until approved or denied. Ids come from an identity column, as in
-- audit_events. decide_time is NULL while pending.
CREATE TABLE promotions (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service     text COLLATE "C" NOT NULL REFERENCES provisionings (service),
    request_id  text        NOT NULL,
    revision    text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('pending', 'approved', 'denied')),
    requester   text        NOT NULL,
    decider     text        NOT NULL,
    reason      text        NOT NULL,
    create_time timestamptz NOT NULL,
    decide_time timestamptz
);

-- CreatePromotion is idempotent on its service and request id, when it has
-- one.
CREATE UNIQUE INDEX promotions_request_id ON promotions (service, request_id) WHERE request_id <> '';
-- ListPromotions walks a service's promotions down from its cursor. The
-- index also serves the foreign key.
CREATE INDEX promotions_service ON promotions (service, id);
