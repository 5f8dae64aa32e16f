-- The public page's brand as an admin set it in the web UI: one row, replacing the configuration's name, accent
-- colour and header links; a logo stored here replaces the configured one.
CREATE TABLE branding (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    name       text NOT NULL,
    accent     text NOT NULL DEFAULT '',
    links      jsonb NOT NULL DEFAULT '[]',
    logo       bytea,
    logo_type  text,
    version    integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT '',
    CONSTRAINT branding_logo_size CHECK (logo IS NULL OR octet_length(logo) <= 524288),
    CONSTRAINT branding_logo_type CHECK ((logo IS NULL) = (logo_type IS NULL))
);
