-- name: PutBudget :one
-- Inserts the team's budget, or replaces it.
INSERT INTO team_budgets (team, monthly_amount, currency, update_time)
VALUES (@team, @monthly_amount, @currency, @update_time)
ON CONFLICT (team) DO UPDATE SET
    monthly_amount = excluded.monthly_amount,
    currency       = excluded.currency,
    update_time    = excluded.update_time
RETURNING team, monthly_amount, currency, update_time;

-- name: GetBudget :one
SELECT team, monthly_amount, currency, update_time FROM team_budgets WHERE team = @team;

-- name: ListBudgets :many
-- Every team's budget, by team.
SELECT team, monthly_amount, currency, update_time FROM team_budgets ORDER BY team;
