-- Scheduled maintenance: a one-off window of two instants, or a window recurring at a local wall-clock time in an
-- IANA zone (see internal/maintenance for how occurrences are computed across changes of offset). Nothing here is
-- stored per occurrence: the status page computes the windows when it builds its snapshot.
CREATE TABLE maintenances (
    id               uuid PRIMARY KEY,
    title            text NOT NULL,
    -- Markdown, customer-facing.
    body             text NOT NULL DEFAULT '',
    -- One-off: the half-open window [starts_at, ends_at).
    starts_at        timestamptz,
    ends_at          timestamptz,
    -- Recurring: every day, or every weekday, at local_start in zone, from starts_on to until_on (inclusive).
    frequency        text CHECK (frequency IN ('daily', 'weekly')),
    weekday          text CHECK (weekday IN ('sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday')),
    local_start      time(0) without time zone,
    duration_minutes integer CHECK (duration_minutes > 0 AND duration_minutes <= 43200),
    zone             text,
    starts_on        date,
    until_on         date,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    CONSTRAINT maintenances_window_check CHECK (
        (frequency IS NULL AND starts_at IS NOT NULL AND ends_at > starts_at
            AND weekday IS NULL AND local_start IS NULL AND duration_minutes IS NULL AND zone IS NULL
            AND starts_on IS NULL AND until_on IS NULL)
        OR
        (frequency IS NOT NULL AND starts_at IS NULL AND ends_at IS NULL
            AND local_start IS NOT NULL AND duration_minutes IS NOT NULL AND zone IS NOT NULL AND starts_on IS NOT NULL
            AND (until_on IS NULL OR until_on >= starts_on)
            AND (weekday IS NOT NULL) = (frequency = 'weekly'))
    )
);
-- The status page loads the recurring ones and the one-offs that ended recently.
CREATE INDEX maintenances_ends_at ON maintenances (ends_at);
CREATE INDEX maintenances_created_at ON maintenances (created_at DESC, id DESC);

CREATE TABLE maintenance_components (
    maintenance_id uuid NOT NULL REFERENCES maintenances (id) ON DELETE CASCADE,
    component_id   uuid NOT NULL REFERENCES components (id),
    PRIMARY KEY (maintenance_id, component_id)
);
CREATE INDEX maintenance_components_component ON maintenance_components (component_id);
