DROP TABLE IF EXISTS post_incident_reminders;
DROP TABLE IF EXISTS corrective_actions;
DROP TABLE IF EXISTS problem_incidents;
DROP TABLE IF EXISTS problems;
DROP TABLE IF EXISTS post_incident_documents;
DROP TABLE IF EXISTS holidays;
