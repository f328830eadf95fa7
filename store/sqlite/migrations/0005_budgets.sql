-- Each team's monthly budget, one per team. monthly_amount is micro-units
-- of currency; update_time is unix microseconds, UTC.
CREATE TABLE team_budgets (
    team           TEXT    NOT NULL PRIMARY KEY,
    monthly_amount INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    update_time    INTEGER NOT NULL
);
