#!/bin/sh
# Runs once, when the PostgreSQL volume is first created. Migrations run as the owner
# (POSTGRES_USER); the portal connects as portal_app, which gets ordinary rights on every table
# the owner creates, and then loses UPDATE, DELETE and TRUNCATE on the audit tables
# (python manage.py restrict_audit_privileges portal_app, run by the migrate service).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE portal_app LOGIN PASSWORD '${APP_DB_PASSWORD}';
GRANT CONNECT ON DATABASE "$POSTGRES_DB" TO portal_app;
GRANT USAGE ON SCHEMA public TO portal_app;
ALTER DEFAULT PRIVILEGES FOR ROLE "$POSTGRES_USER" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO portal_app;
ALTER DEFAULT PRIVILEGES FOR ROLE "$POSTGRES_USER" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO portal_app;
SQL
