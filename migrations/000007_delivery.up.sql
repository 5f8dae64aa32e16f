-- Delivery log and public subscribers. River's own tables (river_job, river_leader, ...) are created at startup by
-- River's rivermigrate, under an advisory lock, so their version follows the River release the binary embeds.

-- What many messages of one Enqueue share (subject, bodies, headers): stored once, so one update to 100,000
-- subscribers writes one body, not 100,000.
CREATE TABLE delivery_contents (
    id         uuid PRIMARY KEY,
    content    text NOT NULL, -- JSON, kept as text: jsonb would reformat the bodies webhooks sign
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One notification to one recipient, its attempts and outcome.
CREATE TABLE deliveries (
    id            uuid PRIMARY KEY,
    content_id    uuid NOT NULL, -- delivery_contents.id; no foreign key: checking it per row would double a 100,000-row fan-out
    channel       text NOT NULL CHECK (channel IN ('email', 'webhook', 'slack', 'teams')),
    target        text NOT NULL,
    topic         text NOT NULL,
    incident_key  text NOT NULL DEFAULT '',
    subscriber_id uuid,
    ref           text NOT NULL DEFAULT '',
    -- per-recipient values substituted into the shared content at send time, and the webhook signing secret
    vars          text, -- JSON object; text: nothing queries into it, and parsing 100,000 of them costs
    secret        text NOT NULL DEFAULT '',
    -- dedupe_key makes a second message about the same event to the same recipient a no-op (BC-20)
    dedupe_key    text UNIQUE,
    status        text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'retrying', 'dead', 'cancelled')),
    attempts      int NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz,
    -- set while the delivery's River job is still to be made by the fan-out job of its Enqueue (large fan-outs
    -- insert only these rows in the publishing transaction)
    batch         uuid
);
-- ids are UUIDv7, time-ordered: the primary key orders the log, no second index needed.
CREATE INDEX deliveries_batch ON deliveries (batch) WHERE batch IS NOT NULL;

-- Secrets the process derives tokens from (manage links, CSRF): generated once per database, shared by every process.
CREATE TABLE delivery_keys (
    name       text PRIMARY KEY,
    key        bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Public subscribers of the status page.
CREATE TABLE subscribers (
    id                uuid PRIMARY KEY,
    channel           text NOT NULL CHECK (channel IN ('email', 'webhook', 'slack', 'teams')),
    -- address is the normalised email (trimmed, NFC, lower-case) or the URL
    address           text NOT NULL,
    secret            text NOT NULL DEFAULT '',
    status            text NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'gone')),
    status_reason     text NOT NULL DEFAULT '',
    all_components    boolean NOT NULL DEFAULT true,
    confirm_hash      bytea,
    confirm_expires   timestamptz,
    confirm_sent_at   timestamptz,
    confirmed_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscribers_address_key UNIQUE (channel, address)
);
CREATE INDEX subscribers_active ON subscribers (status) WHERE status = 'active';

CREATE TABLE subscriber_components (
    subscriber_id uuid NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    component     text NOT NULL,
    PRIMARY KEY (subscriber_id, component)
);
CREATE INDEX subscriber_components_component ON subscriber_components (component);

-- What maintenance notices went out, so each phase of each occurrence is announced once (BC-11, BC-20).
CREATE TABLE maintenance_notices (
    maintenance_id text NOT NULL,
    occurrence     timestamptz NOT NULL,
    phase          text NOT NULL CHECK (phase IN ('scheduled', 'started', 'completed')),
    sent_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (maintenance_id, occurrence, phase)
);
