-- Uptime history, kept as daily rollups so the status page reads at most 90 rows per component however long the
-- history grows. A component's status holds from one row of component_status_changes to the next; each closed
-- interval is added, in the transaction of the change that closes it, to the rows of the dates it spans
-- (internal/postgres/uptime.go). Dates are UTC dates (docs/adr/0006-uptime-daily-rollups.md). Only a date touched by
-- a status other than operational has a row: a date without one, after the component was created, was operational
-- all day. Seconds are fractional: an outage of a moment still shows.
CREATE TABLE component_daily_status (
    component_id        uuid NOT NULL REFERENCES components (id),
    day                 date NOT NULL,
    -- The worst status the component had at any instant of the day's closed intervals.
    worst_status        text NOT NULL
        CHECK (worst_status IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    seconds_degraded    double precision NOT NULL DEFAULT 0 CHECK (seconds_degraded >= 0),
    seconds_partial     double precision NOT NULL DEFAULT 0 CHECK (seconds_partial >= 0),
    seconds_major       double precision NOT NULL DEFAULT 0 CHECK (seconds_major >= 0),
    seconds_maintenance double precision NOT NULL DEFAULT 0 CHECK (seconds_maintenance >= 0),
    -- Keys of the incidents that set a status other than operational for the component during the day. Only an
    -- incident with a published update, and not private, contributes a status; the page looks the names up when it
    -- is built and shows only those of incidents that are still public.
    incident_keys       text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (component_id, day)
);

-- The interval in progress of each component: its status since the change that set it (or since the contributing
-- incidents last changed), counted up to now when the page is built. No row means operational since the creation.
CREATE TABLE component_uptime_open (
    component_id  uuid PRIMARY KEY REFERENCES components (id),
    status        text NOT NULL
        CHECK (status IN ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    since         timestamptz NOT NULL,
    incident_keys text[] NOT NULL DEFAULT '{}'
);

-- The history recorded before this migration (which names no incidents).
WITH iv AS (
    SELECT component_id, status, at AS s, lead(at) OVER (PARTITION BY component_id ORDER BY at, id) AS e
    FROM component_status_changes
), pieces AS (
    SELECT iv.component_id, iv.status, d::date AS day,
           extract(epoch FROM least(iv.e, (d + interval '1 day') AT TIME ZONE 'UTC')
                              - greatest(iv.s, d AT TIME ZONE 'UTC'))::double precision AS secs
    FROM iv, generate_series(date_trunc('day', iv.s AT TIME ZONE 'UTC'), iv.e AT TIME ZONE 'UTC', interval '1 day') AS d
    WHERE iv.e > iv.s AND iv.status IN ('degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')
)
INSERT INTO component_daily_status (component_id, day, worst_status, seconds_degraded, seconds_partial, seconds_major,
                                    seconds_maintenance)
SELECT component_id, day,
       CASE WHEN bool_or(status = 'major_outage') THEN 'major_outage'
            WHEN bool_or(status = 'partial_outage') THEN 'partial_outage'
            WHEN bool_or(status = 'degraded_performance') THEN 'degraded_performance'
            ELSE 'under_maintenance' END,
       coalesce(sum(secs) FILTER (WHERE status = 'degraded_performance'), 0),
       coalesce(sum(secs) FILTER (WHERE status = 'partial_outage'), 0),
       coalesce(sum(secs) FILTER (WHERE status = 'major_outage'), 0),
       coalesce(sum(secs) FILTER (WHERE status = 'under_maintenance'), 0)
FROM pieces
WHERE secs > 0
GROUP BY component_id, day;

INSERT INTO component_uptime_open (component_id, status, since)
SELECT c.id, c.status, coalesce((SELECT max(at) FROM component_status_changes s WHERE s.component_id = c.id),
                                CASE WHEN c.status = 'operational' THEN c.created_at ELSE c.updated_at END)
FROM components c;
