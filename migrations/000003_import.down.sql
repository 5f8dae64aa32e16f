DROP TABLE IF EXISTS external_refs;
