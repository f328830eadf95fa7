-- Billing laid out for imports of millions of rows. 0004 kept every row in
-- one table with an index on (service, month) and one on (source, month),
-- both kept up to date row by row; now:
--
-- - billing_months has a row per source and month imported, with the
--   import's currency and time. A re-import of a month gives it a new id.
-- - billing_charges keeps the rows of FOCUS files as imported, under their
--   month's id, numbered in file order. An import appends them, month by
--   month, so that a BRIN index on the month's id finds a month's rows for a
--   re-import to delete, for next to nothing: a B-tree, or a key, kept up
--   to date row by row would cost a third of the import's time, and nothing
--   reads a charge by key.
-- - billing_resource_costs and billing_daily_costs hold what reads need,
--   summed as the rows are imported: a service's cost per resource in a
--   month, and per day. An import may write several partial sums of one key
--   (see store/internal/billing): reads sum them again, by indexes over far
--   fewer rows than the charges.
--
-- No foreign key ties the rows to billing_months: ReplaceBilling writes
-- both, and checking one per charge would cost every row a lookup. Costs are
-- micro-units of the month's currency. A service is the Cairn service rows
-- map to, '' for none (unmapped cost is kept and reported). Service names
-- and resource ids sort in byte order, as in services and in SQLite.
CREATE TABLE billing_months (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text        NOT NULL,
    month       text        NOT NULL, -- YYYY-MM, UTC, of charge_period_start
    currency    text        NOT NULL,
    imported_at timestamptz NOT NULL,
    UNIQUE (source, month)
);

CREATE TABLE billing_charges (
    month_id            bigint      NOT NULL,
    row_number          bigint      NOT NULL, -- 1 for the import's first row
    charge_period_start timestamptz NOT NULL,
    charge_period_end   timestamptz NOT NULL,
    charge_category     text        NOT NULL,
    service             text COLLATE "C" NOT NULL,
    resource_id         text COLLATE "C" NOT NULL,
    service_name        text        NOT NULL,
    service_category    text        NOT NULL,
    billed_cost         bigint      NOT NULL,
    effective_cost      bigint      NOT NULL,
    list_cost           bigint      NOT NULL
);
CREATE INDEX billing_charges_month ON billing_charges USING brin (month_id);
-- Without a key, logical replication needs the whole row to replicate a
-- re-import's deletes.
ALTER TABLE billing_charges REPLICA IDENTITY FULL;

CREATE TABLE billing_resource_costs (
    month_id         bigint NOT NULL,
    month            text   NOT NULL,
    service          text COLLATE "C" NOT NULL,
    resource_id      text COLLATE "C" NOT NULL,
    service_category text   NOT NULL,
    currency         text   NOT NULL,
    effective_cost   bigint NOT NULL
);
-- ServiceBilling reads a service's month.
CREATE INDEX billing_resource_costs_service ON billing_resource_costs (service, month);
CREATE INDEX billing_resource_costs_month ON billing_resource_costs (month_id);

-- day is the UTC midnight of the rows' charge_period_start.
CREATE TABLE billing_daily_costs (
    month_id       bigint      NOT NULL,
    service        text COLLATE "C" NOT NULL,
    day            timestamptz NOT NULL,
    effective_cost bigint      NOT NULL
);
-- DailyBilling reads services' days.
CREATE INDEX billing_daily_costs_service ON billing_daily_costs (service, day);
CREATE INDEX billing_daily_costs_month ON billing_daily_costs (month_id);

-- The data of 0004's tables, moved. Every month imported has rows, all in
-- one currency (an import is of one currency, and replaces whole months).
INSERT INTO billing_months (source, month, currency, imported_at)
SELECT i.source, i.month,
       COALESCE((SELECT r.currency FROM billing_rows r WHERE r.source = i.source AND r.month = i.month LIMIT 1), ''),
       i.imported_at
FROM billing_imports i
ORDER BY i.source, i.month;

INSERT INTO billing_charges (
    month_id, row_number, charge_period_start, charge_period_end, charge_category, service, resource_id,
    service_name, service_category, billed_cost, effective_cost, list_cost
)
SELECT m.id, row_number() OVER (PARTITION BY m.id ORDER BY r.id), r.charge_period_start, r.charge_period_end,
       r.charge_category, r.service, r.resource_id, r.service_name, r.service_category,
       r.billed_cost, r.effective_cost, r.list_cost
FROM billing_rows r JOIN billing_months m ON m.source = r.source AND m.month = r.month;

-- SUM of bigint is numeric: cast back.
INSERT INTO billing_resource_costs (month_id, month, service, resource_id, service_category, currency, effective_cost)
SELECT m.id, r.month, r.service, r.resource_id, r.service_category, r.currency, SUM(r.effective_cost)::bigint
FROM billing_rows r JOIN billing_months m ON m.source = r.source AND m.month = r.month
GROUP BY m.id, r.month, r.service, r.resource_id, r.service_category, r.currency;

INSERT INTO billing_daily_costs (month_id, service, day, effective_cost)
SELECT m.id, r.service, date_trunc('day', r.charge_period_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', SUM(r.effective_cost)::bigint
FROM billing_rows r JOIN billing_months m ON m.source = r.source AND m.month = r.month
GROUP BY 1, 2, 3;

DROP TABLE billing_rows;
DROP TABLE billing_imports;
