DROP INDEX IF EXISTS incidents_public_updated;
DROP INDEX IF EXISTS incidents_public_started;
ALTER TABLE incidents DROP COLUMN IF EXISTS public_updated_at, DROP COLUMN IF EXISTS public_started_at;
