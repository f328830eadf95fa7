-- Imported billing: the rows of FinOps FOCUS files, each kept as imported.
-- month is the UTC month of charge_period_start, YYYY-MM: an import
-- replaces a source's rows month by month. service is the Cairn service a
-- row maps to, '' for none (unmapped cost is kept and reported). Times are
-- unix microseconds, UTC; costs micro-units of currency. The id is the
-- rowid: without AUTOINCREMENT, which would write sqlite_sequence on every
-- insert, as nothing pages by it.
CREATE TABLE billing_rows (
    id                  INTEGER NOT NULL PRIMARY KEY,
    source              TEXT    NOT NULL,
    month               TEXT    NOT NULL,
    charge_period_start INTEGER NOT NULL,
    charge_period_end   INTEGER NOT NULL,
    charge_category     TEXT    NOT NULL,
    service             TEXT    NOT NULL,
    resource_id         TEXT    NOT NULL,
    service_name        TEXT    NOT NULL,
    service_category    TEXT    NOT NULL,
    currency            TEXT    NOT NULL,
    billed_cost         INTEGER NOT NULL,
    effective_cost      INTEGER NOT NULL,
    list_cost           INTEGER NOT NULL
);

-- ServiceBilling reads a service's month.
CREATE INDEX billing_rows_service_month ON billing_rows (service, month);
-- ReplaceBilling deletes a source's month.
CREATE INDEX billing_rows_source_month ON billing_rows (source, month);

-- When each source's month was last imported: LastBillingImport is the
-- latest. Times are unix microseconds.
CREATE TABLE billing_imports (
    source      TEXT    NOT NULL,
    month       TEXT    NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (source, month)
);
