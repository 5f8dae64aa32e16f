-- When customers first and last heard of each incident: the times of its first and latest published update, copied
-- out of the state like public_status. The public history pages by the first, the feeds order by the latest;
-- updated_at cannot serve either, because every internal command (a role, a note, the conclusion) moves it. Both
-- stay NULL for a private incident, which is on no public surface.
ALTER TABLE incidents ADD COLUMN public_started_at timestamptz, ADD COLUMN public_updated_at timestamptz;

UPDATE incidents i SET public_started_at = p.first_at, public_updated_at = p.last_at
FROM (
    SELECT x.id, min((u->>'published_at')::timestamptz) AS first_at, max((u->>'published_at')::timestamptz) AS last_at
    FROM incidents x,
         jsonb_array_elements(CASE WHEN jsonb_typeof(x.state->'updates') = 'array' THEN x.state->'updates'
                                   ELSE '[]'::jsonb END) u
    WHERE u->>'state' = 'published' AND u->>'published_at' IS NOT NULL
      AND NOT coalesce((x.state->>'private')::boolean, false)
    GROUP BY x.id
) p
WHERE i.id = p.id;

CREATE INDEX incidents_public_started ON incidents (public_started_at DESC, id DESC) WHERE public_started_at IS NOT NULL;
CREATE INDEX incidents_public_updated ON incidents (public_updated_at DESC, id DESC) WHERE public_updated_at IS NOT NULL;
