-- The audit log: one row per mutating call, allowed or denied, appended and
-- never changed. AUTOINCREMENT keeps ids increasing for good: without it,
-- SQLite may hand out again the id of the newest row once it is gone. Times
-- are unix microseconds, UTC.
CREATE TABLE audit_events (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    time       INTEGER NOT NULL,
    principal  TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    code       TEXT    NOT NULL
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
