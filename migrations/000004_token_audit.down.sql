ALTER TABLE timeline_entries DROP COLUMN IF EXISTS token_id;
ALTER TABLE api_tokens DROP COLUMN IF EXISTS created_by;
