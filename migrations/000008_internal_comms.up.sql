-- Internal communication from the major-incident process (internal/comms): who hears about an incident beyond the
-- public page, and what was already sent, so a periodic task run twice (two processes, a restart) sends nothing twice.

-- Stakeholder distribution lists: internal staff who get an email at each significant change of a major incident of
-- a severity they cover, and a summary at the cadence interval.
CREATE TABLE stakeholder_lists (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    emails      text[] NOT NULL,
    severities  text[] NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Customer accounts with the customer success people who forward updates to them, and the components they use.
CREATE TABLE customers (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    csm_email   text NOT NULL DEFAULT '',
    tcsm_email  text NOT NULL DEFAULT '',
    components  text[] NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CHECK (csm_email <> '' OR tcsm_email <> '')
);

-- Resolver groups a functional escalation engages, by the name an escalation targets (case-insensitive).
CREATE TABLE resolver_groups (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    email       text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX resolver_groups_name_key ON resolver_groups (lower(name));

-- Ticket-system integrations: each published update is POSTed, signed with the secret, once per linked ticket whose
-- system has this name (case-insensitive). The secret signs, so it is kept as is; the API shows it only at creation.
CREATE TABLE ticket_systems (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    url         text NOT NULL,
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX ticket_systems_name_key ON ticket_systems (lower(name));

-- One row per published update sent to one linked ticket: pending until the delivery engine reports the outcome.
CREATE TABLE ticket_deliveries (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents (id),
    ticket_id    text NOT NULL,
    update_id    text NOT NULL,
    system       text NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    UNIQUE (incident_id, ticket_id, update_id)
);

-- What the periodic tasks already sent: one row per incident, kind and due time. Inserting it in the transaction that
-- enqueues the messages, ON CONFLICT DO NOTHING, makes each reminder happen once however often the task runs.
CREATE TABLE comms_sent (
    incident_id  uuid NOT NULL REFERENCES incidents (id),
    kind         text NOT NULL CHECK (kind IN ('stakeholder_cadence', 'update_overdue')),
    due_at       timestamptz NOT NULL,
    sent_at      timestamptz NOT NULL,
    PRIMARY KEY (incident_id, kind, due_at)
);
