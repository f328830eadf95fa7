-- An audit event may say in words what its call did where the action
-- alone does not, such as that a promotion is a rollback. Events recorded
-- before have none.
ALTER TABLE audit_events ADD COLUMN detail text NOT NULL DEFAULT '';
