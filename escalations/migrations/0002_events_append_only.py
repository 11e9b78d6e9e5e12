from django.db import migrations

# A trigger refuses UPDATE and DELETE on events at the database, whatever the client.
# TRUNCATE is left to privileges (the application's role has none on these tables in
# production); a TRUNCATE trigger would also stop the test runner's flush.
FORWARD = """
CREATE OR REPLACE FUNCTION escalations_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'escalation events are append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER escalations_event_no_update_delete
    BEFORE UPDATE OR DELETE ON escalations_event
    FOR EACH ROW EXECUTE FUNCTION escalations_event_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS escalations_event_no_update_delete ON escalations_event;
DROP FUNCTION IF EXISTS escalations_event_append_only();
"""
SQLITE_FORWARD = [
    "CREATE TRIGGER escalations_event_no_update BEFORE UPDATE ON escalations_event "
    "BEGIN SELECT RAISE(ABORT, 'escalation events are append-only: UPDATE refused'); END;",
    "CREATE TRIGGER escalations_event_no_delete BEFORE DELETE ON escalations_event "
    "BEGIN SELECT RAISE(ABORT, 'escalation events are append-only: DELETE refused'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS escalations_event_no_update;",
    "DROP TRIGGER IF EXISTS escalations_event_no_delete;",
]


def forward(apps, schema_editor):
    statements = [FORWARD] if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    if schema_editor.connection.vendor not in ("postgresql", "sqlite"):
        return
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    statements = [BACKWARD] if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD
    if schema_editor.connection.vendor not in ("postgresql", "sqlite"):
        return
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("escalations", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
