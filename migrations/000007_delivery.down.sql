DROP TABLE IF EXISTS maintenance_notices;
DROP TABLE IF EXISTS subscriber_components;
DROP TABLE IF EXISTS subscribers;
DROP TABLE IF EXISTS delivery_keys;
DROP TABLE IF EXISTS deliveries;
DROP TABLE IF EXISTS delivery_contents;
