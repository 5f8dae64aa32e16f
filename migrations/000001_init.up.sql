-- mim's first schema: accounts, components, incidents and their append-only timeline.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'responder', 'viewer')),
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);
-- One account per mailbox, whatever the letter case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id),
    name         text NOT NULL,
    -- SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough and the token is never stored.
    token_hash   bytea NOT NULL,
    prefix       text NOT NULL,
    scopes       text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);

CREATE TABLE components (
    id            uuid PRIMARY KEY,
    slug          text NOT NULL,
    name          text NOT NULL,
    group_name    text NOT NULL DEFAULT '',
    description   text NOT NULL DEFAULT '',
    core          boolean NOT NULL DEFAULT false,
    control_plane boolean NOT NULL DEFAULT false,
    status        text NOT NULL DEFAULT 'operational'
        CHECK (status IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    position      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT components_slug_key UNIQUE (slug)
);

-- Every change of a component's public status, for uptime history.
CREATE TABLE component_status_changes (
    id           bigserial PRIMARY KEY,
    component_id uuid NOT NULL REFERENCES components (id),
    status       text NOT NULL,
    incident_id  uuid,
    at           timestamptz NOT NULL
);
CREATE INDEX component_status_changes_component_at ON component_status_changes (component_id, at);

-- The classification policy, versioned: each incident records the version it was classified with.
CREATE TABLE classification_policies (
    version    integer PRIMARY KEY,
    policy     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id)
);

CREATE SEQUENCE incident_number_seq;

CREATE TABLE incidents (
    id            uuid PRIMARY KEY,
    number        bigint NOT NULL,
    key           text NOT NULL,
    title         text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('major', 'standard')),
    -- stage for a major incident, status for a standard one; the other is NULL.
    stage         text,
    status        text,
    severity      text NOT NULL,
    urgency       text NOT NULL,
    priority      text NOT NULL,
    -- The status of the latest published update, NULL while nothing is public.
    public_status text,
    is_open       boolean NOT NULL,
    dedup_key     text,
    -- The whole aggregate as the workflow sees it; the columns above are copies for querying.
    state         jsonb NOT NULL,
    version       integer NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT incidents_key_key UNIQUE (key),
    CONSTRAINT incidents_number_key UNIQUE (number)
);
-- At most one open incident per dedup key: repeats of an alert fold into it.
CREATE UNIQUE INDEX incidents_open_dedup_key ON incidents (dedup_key) WHERE is_open AND dedup_key IS NOT NULL;
CREATE INDEX incidents_created_at ON incidents (created_at DESC, id DESC);
CREATE INDEX incidents_public ON incidents (updated_at DESC) WHERE public_status IS NOT NULL;

CREATE TABLE incident_components (
    incident_id  uuid NOT NULL REFERENCES incidents (id),
    component_id uuid NOT NULL REFERENCES components (id),
    PRIMARY KEY (incident_id, component_id)
);
CREATE INDEX incident_components_component ON incident_components (component_id);

-- The audit timeline: append-only, enforced below.
CREATE TABLE timeline_entries (
    id          bigserial PRIMARY KEY,
    incident_id uuid NOT NULL REFERENCES incidents (id),
    seq         integer NOT NULL,
    version     integer NOT NULL,
    type        text NOT NULL,
    at          timestamptz NOT NULL,
    actor_id    uuid,
    actor_name  text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('api', 'ui', 'cli', 'system')),
    data        jsonb NOT NULL,
    CONSTRAINT timeline_entries_incident_seq_key UNIQUE (incident_id, seq)
);

CREATE FUNCTION timeline_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'timeline_entries is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER timeline_entries_append_only
    BEFORE UPDATE OR DELETE ON timeline_entries
    FOR EACH ROW EXECUTE FUNCTION timeline_entries_append_only();
CREATE TRIGGER timeline_entries_no_truncate
    BEFORE TRUNCATE ON timeline_entries
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_entries_append_only();

-- Responses to creating calls, replayed when a client retries with the same Idempotency-Key.
CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id),
    key          text NOT NULL,
    method       text NOT NULL,
    path         text NOT NULL,
    request_hash bytea NOT NULL,
    status       integer NOT NULL,
    headers      jsonb NOT NULL,
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
