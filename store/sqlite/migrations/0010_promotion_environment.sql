-- A promotion names the environment it deploys to, on a promotion path
-- such as dev, staging, production. Every promotion recorded before was to
-- production. rollback is set when the revision is one the environment ran
-- before, as the caller says when it asks. The request id index stays as
-- it was: a repeated request is the first one, whatever its environment.
ALTER TABLE promotions ADD COLUMN environment TEXT NOT NULL DEFAULT 'production';
ALTER TABLE promotions ADD COLUMN rollback BOOLEAN NOT NULL DEFAULT 0 CHECK (rollback IN (0, 1));
