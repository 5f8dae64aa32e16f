DROP TABLE IF EXISTS maintenance_components;
DROP TABLE IF EXISTS maintenances;
