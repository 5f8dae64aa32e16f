-- Where imported things came from: one row per entity of another tool (a Statuspage page's components, incidents
-- and incident updates) and the local entity it became, so that importing an export again, or one that overlaps
-- it, creates nothing twice.
CREATE TABLE external_refs (
    -- The page or system the entity belongs to, e.g. 'statuspage:<page id>'.
    source      text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('component', 'incident', 'incident_update')),
    external_id text NOT NULL,
    -- A component's, incident's or update's id; updates live inside their incident's state, so no foreign key.
    local_id    uuid NOT NULL,
    -- The entity's JSON as the source had it when imported, with what mim does not model (display_at, impact, …).
    data        jsonb NOT NULL DEFAULT '{}',
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, kind, external_id)
);
CREATE INDEX external_refs_local_id ON external_refs (local_id);
