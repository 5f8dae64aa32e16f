DROP TABLE component_uptime_open;
DROP TABLE component_daily_status;
