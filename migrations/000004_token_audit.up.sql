-- Who made each token, and which token each timeline entry was made with: a token an admin made for someone else
-- acts as that person, and the audit log must show it.
ALTER TABLE api_tokens ADD COLUMN created_by uuid REFERENCES users (id);
ALTER TABLE timeline_entries ADD COLUMN token_id uuid REFERENCES api_tokens (id);
