-- Post-incident work: the Post Incident Report and Root Cause Analysis of each concluded major incident, the
-- business-day calendar their deadlines skip, corrective actions and the problems that group incidents by root cause.

-- The business-day calendar: an RCA's deadline skips weekends and these local dates.
CREATE TABLE holidays (
    day        date PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL
);

-- One PIR and one RCA per incident, opened in the transaction that concludes it. The primary key is what makes
-- concluding again (after a reopening) keep the documents instead of opening new ones.
CREATE TABLE post_incident_documents (
    incident_id  uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('pir', 'rca')),
    status       text NOT NULL CHECK (status IN ('draft', 'reviewed', 'published', 'needs_revision')),
    concluded_at timestamptz NOT NULL,
    target_at    timestamptz,
    due_at       timestamptz NOT NULL,
    body         jsonb NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    reviewed_by  jsonb,
    reviewed_at  timestamptz,
    published_at timestamptz,
    -- The first publication, which on-time rates count: publishing again after an edit does not make a report late.
    first_published_at timestamptz,
    -- The customer-safe version shown on the incident's public permalink, when published as such.
    public       jsonb,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (incident_id, kind)
);
CREATE INDEX post_incident_documents_due ON post_incident_documents (due_at) WHERE status <> 'published';

CREATE TABLE problems (
    id          uuid PRIMARY KEY,
    title       text NOT NULL,
    root_cause  text NOT NULL DEFAULT '',
    known_error text NOT NULL DEFAULT '',
    workaround  text NOT NULL DEFAULT '',
    status      text NOT NULL CHECK (status IN ('open', 'closed')),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    closed_at   timestamptz
);

CREATE TABLE problem_incidents (
    problem_id  uuid NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    PRIMARY KEY (problem_id, incident_id)
);
CREATE INDEX problem_incidents_incident ON problem_incidents (incident_id);

CREATE TABLE corrective_actions (
    id          uuid PRIMARY KEY,
    incident_id uuid REFERENCES incidents (id) ON DELETE CASCADE,
    problem_id  uuid REFERENCES problems (id) ON DELETE SET NULL,
    kind        text NOT NULL,
    title       text NOT NULL,
    owner_id    uuid NOT NULL REFERENCES users (id),
    due_at      timestamptz NOT NULL,
    status      text NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'wont_do')),
    reason      text NOT NULL DEFAULT '',
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    done_at     timestamptz,
    CHECK (status <> 'wont_do' OR reason <> '')
);
CREATE INDEX corrective_actions_incident ON corrective_actions (incident_id);
CREATE INDEX corrective_actions_problem ON corrective_actions (problem_id);
CREATE INDEX corrective_actions_due ON corrective_actions (due_at) WHERE status IN ('open', 'in_progress');

-- One row per reminder sent: the key ("pir:<incident id>", "action:<id>") makes a reminder go out once per item
-- however often, and on however many processes, the deadline check runs.
CREATE TABLE post_incident_reminders (
    key     text PRIMARY KEY,
    sent_at timestamptz NOT NULL
);
