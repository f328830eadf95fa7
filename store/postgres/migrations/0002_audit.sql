-- The audit log: one row per mutating call, allowed or denied, appended and
-- never changed. Ids come from an identity column, which never hands one
-- out twice.
CREATE TABLE audit_events (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time       timestamptz NOT NULL,
    principal  text        NOT NULL,
    action     text        NOT NULL,
    target     text        NOT NULL,
    request_id text        NOT NULL,
    outcome    text        NOT NULL,
    code       text        NOT NULL
);

-- ListAuditEvents lists newest first, by id: unfiltered, it walks the
-- primary key down from its cursor and stops at its limit. A principal or a
-- target picks out a small share of a log that grows for good, so each has
-- an index in id order for the listing to walk instead. The other filters
-- have none, and are tested along the primary key: actions and outcomes
-- take a handful of values, and time windows mostly lie near the newest
-- events, where the walk starts. Indexes on them would slow every append to
-- spare rare listings a longer walk.
CREATE INDEX audit_events_principal ON audit_events (principal, id);
CREATE INDEX audit_events_target ON audit_events (target, id);
