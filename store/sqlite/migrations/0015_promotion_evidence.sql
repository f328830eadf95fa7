-- A promotion keeps the evidence its approver is shown, computed when it
-- was requested: one JSON document, read whole and never queried into.
-- '' for a promotion recorded before, which has none.
ALTER TABLE promotions ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
