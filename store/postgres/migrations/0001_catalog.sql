-- The service catalog. The fields ListServices filters on are columns of
-- their own; the collections are JSONB, always an array or an object, never
-- null (JSONB reorders object keys, which maps do not mind, and keeps arrays
-- in order).
--
-- Names and teams sort in byte order, as SQLite and Go compare strings,
-- whatever collation the database was created with: pages are cut by name,
-- and every engine must cut them at the same place.
CREATE TABLE services (
    name            text COLLATE "C" NOT NULL PRIMARY KEY,
    title           text        NOT NULL,
    description     text        NOT NULL,
    type            text        NOT NULL,
    lifecycle       text        NOT NULL,
    owner           text        NOT NULL,
    team            text COLLATE "C" NOT NULL,
    system          text        NOT NULL,
    golden_path     boolean     NOT NULL,
    source_template text        NOT NULL,
    labels          jsonb       NOT NULL,
    annotations     jsonb       NOT NULL,
    tags            jsonb       NOT NULL,
    links           jsonb       NOT NULL,
    provides_apis   jsonb       NOT NULL,
    consumes_apis   jsonb       NOT NULL,
    depends_on      jsonb       NOT NULL,
    etag            text        NOT NULL,
    create_time     timestamptz NOT NULL,
    update_time     timestamptz NOT NULL
);

-- ListServices walks services in name order, the order it pages in, and
-- tests the filters on each row: one query serves every combination of
-- filters, and a catalog is small enough for the walk. It uses no index
-- per filter, so there is none; ListTeams reads this one alone.
CREATE INDEX services_team ON services (team, golden_path);

-- One row per tag of each service, for the tag filter: services.tags stays
-- the source of truth for what a service returns.
CREATE TABLE service_tags (
    service_name text COLLATE "C" NOT NULL REFERENCES services (name) ON DELETE CASCADE,
    tag          text NOT NULL,
    PRIMARY KEY (service_name, tag)
);
