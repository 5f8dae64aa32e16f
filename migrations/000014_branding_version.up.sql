-- Brand versions are drawn from a sequence, so a reset (which deletes the stored brand) never lets a later save reuse
-- a version an old form still holds: that form is refused as changed, not applied over the newer brand.
CREATE SEQUENCE branding_version_seq AS integer;
SELECT setval('branding_version_seq', coalesce((SELECT max(version) FROM branding), 0) + 1, false);
