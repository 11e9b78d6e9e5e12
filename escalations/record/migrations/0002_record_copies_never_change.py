from django.db import migrations

# As for escalation events (escalations 0002): the database itself refuses to change or delete
# a frozen copy's row, whatever the client.
FORWARD = """
CREATE OR REPLACE FUNCTION record_recordcopy_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'frozen record copies never change: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER record_recordcopy_no_update_delete
    BEFORE UPDATE OR DELETE ON record_recordcopy
    FOR EACH ROW EXECUTE FUNCTION record_recordcopy_frozen();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS record_recordcopy_no_update_delete ON record_recordcopy;
DROP FUNCTION IF EXISTS record_recordcopy_frozen();
"""
SQLITE_FORWARD = [
    "CREATE TRIGGER record_recordcopy_no_update BEFORE UPDATE ON record_recordcopy "
    "BEGIN SELECT RAISE(ABORT, 'frozen record copies never change: UPDATE refused'); END;",
    "CREATE TRIGGER record_recordcopy_no_delete BEFORE DELETE ON record_recordcopy "
    "BEGIN SELECT RAISE(ABORT, 'frozen record copies never change: DELETE refused'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS record_recordcopy_no_update;",
    "DROP TRIGGER IF EXISTS record_recordcopy_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    for statement in [FORWARD] if vendor == "postgresql" else SQLITE_FORWARD:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    for statement in [BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("record", "0001_record_copies")]
    operations = [migrations.RunPython(forward, backward)]
