-- Web UI sign-in: sessions, and the failed sign-ins that throttle guessing.

CREATE TABLE web_sessions (
    -- SHA-256 of the 256-bit random session id in the cookie: a stolen table opens no session.
    id_hash      bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The per-session CSRF token every form carries (random, not secret from the session's own pages).
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- Failed sign-ins by the address typed, whether or not an account has it, so a lockout says nothing about which
-- accounts exist.
CREATE TABLE login_failures (
    email        text PRIMARY KEY,
    failures     int NOT NULL,
    first_at     timestamptz NOT NULL,
    locked_until timestamptz
);
-- Counts whose window and lockout have passed are swept as new failures come in.
CREATE INDEX login_failures_first_at_idx ON login_failures (first_at);
