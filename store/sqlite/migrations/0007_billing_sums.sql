-- Billing laid out for imports of millions of rows. 0004 kept every row in
-- one table with an index on (service, month) and one on (source, month),
-- both kept up to date row by row; now:
--
-- - billing_months has a row per source and month imported, with the
--   import's currency and time. A re-import of a month gives it a new id.
-- - billing_charges keeps the rows of FOCUS files as imported, in file
--   order (by rowid), under their month's id. Its one index, on the month's
--   id, grows at its end as an import inserts, and gives a re-import the
--   rows to delete as one range.
-- - billing_resource_costs and billing_daily_costs hold what reads need,
--   summed as the rows are imported: a service's cost per resource in a
--   month, and per day. An import may write several partial sums of one key
--   (see store/internal/billing): reads sum them again, by indexes over far
--   fewer rows than the charges.
--
-- No foreign key ties the rows to billing_months: ReplaceBilling writes
-- both, and checking one per charge would cost every row a lookup. Times
-- are unix microseconds, UTC; costs micro-units of the month's currency. A
-- service is the Cairn service rows map to, '' for none (unmapped cost is
-- kept and reported).
CREATE TABLE billing_months (
    id          INTEGER NOT NULL PRIMARY KEY,
    source      TEXT    NOT NULL,
    month       TEXT    NOT NULL, -- YYYY-MM, UTC, of charge_period_start
    currency    TEXT    NOT NULL,
    imported_at INTEGER NOT NULL,
    UNIQUE (source, month)
);

CREATE TABLE billing_charges (
    month_id            INTEGER NOT NULL,
    charge_period_start INTEGER NOT NULL,
    charge_period_end   INTEGER NOT NULL,
    charge_category     TEXT    NOT NULL,
    service             TEXT    NOT NULL,
    resource_id         TEXT    NOT NULL,
    service_name        TEXT    NOT NULL,
    service_category    TEXT    NOT NULL,
    billed_cost         INTEGER NOT NULL,
    effective_cost      INTEGER NOT NULL,
    list_cost           INTEGER NOT NULL
);
CREATE INDEX billing_charges_month ON billing_charges (month_id);

CREATE TABLE billing_resource_costs (
    month_id         INTEGER NOT NULL,
    month            TEXT    NOT NULL,
    service          TEXT    NOT NULL,
    resource_id      TEXT    NOT NULL,
    service_category TEXT    NOT NULL,
    currency         TEXT    NOT NULL,
    effective_cost   INTEGER NOT NULL
);
-- ServiceBilling reads a service's month from the index alone, in the
-- order it groups and sorts by.
CREATE INDEX billing_resource_costs_service
    ON billing_resource_costs (service, month, resource_id, service_category, currency, effective_cost);
CREATE INDEX billing_resource_costs_month ON billing_resource_costs (month_id);

-- day is the UTC midnight of the rows' charge_period_start.
CREATE TABLE billing_daily_costs (
    month_id       INTEGER NOT NULL,
    service        TEXT    NOT NULL,
    day            INTEGER NOT NULL,
    effective_cost INTEGER NOT NULL
);
-- DailyBilling reads services' days from the index alone.
CREATE INDEX billing_daily_costs_service ON billing_daily_costs (service, day, effective_cost);
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
    month_id, charge_period_start, charge_period_end, charge_category, service, resource_id,
    service_name, service_category, billed_cost, effective_cost, list_cost
)
SELECT m.id, r.charge_period_start, r.charge_period_end, r.charge_category, r.service, r.resource_id,
       r.service_name, r.service_category, r.billed_cost, r.effective_cost, r.list_cost
FROM billing_rows r JOIN billing_months m ON m.source = r.source AND m.month = r.month
ORDER BY r.id;

INSERT INTO billing_resource_costs (month_id, month, service, resource_id, service_category, currency, effective_cost)
SELECT m.id, r.month, r.service, r.resource_id, r.service_category, r.currency, SUM(r.effective_cost)
FROM billing_rows r JOIN billing_months m ON m.source = r.source AND m.month = r.month
GROUP BY m.id, r.month, r.service, r.resource_id, r.service_category, r.currency;

-- The day as 0004's DailyBilling computed it: the start less its
-- remainder of a day, taken so that it is never negative.
INSERT INTO billing_daily_costs (month_id, service, day, effective_cost)
SELECT m.id, r.service,
       r.charge_period_start - ((r.charge_period_start % 86400000000) + 86400000000) % 86400000000 AS day,
       SUM(r.effective_cost)
FROM billing_rows r JOIN billing_months m ON m.source = r.source AND m.month = r.month
GROUP BY m.id, r.service, day;

DROP TABLE billing_rows;
DROP TABLE billing_imports;
