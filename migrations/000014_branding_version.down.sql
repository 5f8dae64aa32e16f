DROP SEQUENCE IF EXISTS branding_version_seq;
