DROP TABLE comms_sent;
DROP TABLE ticket_deliveries;
DROP TABLE ticket_systems;
DROP TABLE resolver_groups;
DROP TABLE customers;
DROP TABLE stakeholder_lists;
