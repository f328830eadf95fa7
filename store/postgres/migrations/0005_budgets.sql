-- Each team's monthly budget, one per team. monthly_amount is micro-units
-- of currency. Team names sort in byte order, as in services and in SQLite.
CREATE TABLE team_budgets (
    team           text COLLATE "C" NOT NULL PRIMARY KEY,
    monthly_amount bigint      NOT NULL,
    currency       text        NOT NULL,
    update_time    timestamptz NOT NULL
);
