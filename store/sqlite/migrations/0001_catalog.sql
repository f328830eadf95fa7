-- The service catalog. The fields ListServices filters on are columns of
-- their own; the collections are JSON, always an array or an object, never
-- null. Times are unix microseconds, UTC.
CREATE TABLE services (
    name            TEXT    NOT NULL PRIMARY KEY,
    title           TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    lifecycle       TEXT    NOT NULL,
    owner           TEXT    NOT NULL,
    team            TEXT    NOT NULL,
    system          TEXT    NOT NULL,
    golden_path     BOOLEAN NOT NULL CHECK (golden_path IN (0, 1)),
    source_template TEXT    NOT NULL,
    labels          TEXT    NOT NULL,
    annotations     TEXT    NOT NULL,
    tags            TEXT    NOT NULL,
    links           TEXT    NOT NULL,
    provides_apis   TEXT    NOT NULL,
    consumes_apis   TEXT    NOT NULL,
    depends_on      TEXT    NOT NULL,
    etag            TEXT    NOT NULL,
    create_time     INTEGER NOT NULL,
    update_time     INTEGER NOT NULL
);

-- ListServices walks services in name order, the order it pages in, and
-- tests the filters on each row: one query serves every combination of
-- filters, and a catalog is small enough for the walk. It uses no index
-- per filter, so there is none; ListTeams reads this one alone.
CREATE INDEX services_team ON services (team, golden_path);

-- One row per tag of each service, for the tag filter: services.tags stays
-- the source of truth for what a service returns.
CREATE TABLE service_tags (
    service_name TEXT NOT NULL REFERENCES services (name) ON DELETE CASCADE,
    tag          TEXT NOT NULL,
    PRIMARY KEY (service_name, tag)
) WITHOUT ROWID;
