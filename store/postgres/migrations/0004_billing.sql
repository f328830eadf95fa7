-- Imported billing: the rows of FinOps FOCUS files, each kept as imported.
-- month is the UTC month of charge_period_start, YYYY-MM: an import
-- replaces a source's rows month by month. service is the Cairn service a
-- row maps to, '' for none (unmapped cost is kept and reported). Costs are
-- micro-units of currency. Service names and resource ids sort in byte
-- order, as in services and in SQLite.
CREATE TABLE billing_rows (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source              text        NOT NULL,
    month               text        NOT NULL,
    charge_period_start timestamptz NOT NULL,
    charge_period_end   timestamptz NOT NULL,
    charge_category     text        NOT NULL,
    service             text COLLATE "C" NOT NULL,
    resource_id         text COLLATE "C" NOT NULL,
    service_name        text        NOT NULL,
    service_category    text        NOT NULL,
    currency            text        NOT NULL,
    billed_cost         bigint      NOT NULL,
    effective_cost      bigint      NOT NULL,
    list_cost           bigint      NOT NULL
);

-- ServiceBilling reads a service's month.
CREATE INDEX billing_rows_service_month ON billing_rows (service, month);
-- ReplaceBilling deletes a source's month.
CREATE INDEX billing_rows_source_month ON billing_rows (source, month);

-- When each source's month was last imported: LastBillingImport is the
-- latest.
CREATE TABLE billing_imports (
    source      text        NOT NULL,
    month       text        NOT NULL,
    imported_at timestamptz NOT NULL,
    PRIMARY KEY (source, month)
);
