"""Takes UPDATE, DELETE and TRUNCATE on the audit tables away from the application's role.

The append-only triggers stop UPDATE and DELETE from any role, but a table's owner can disable
a trigger and no row trigger sees TRUNCATE. So the portal runs as a role that does not own the
tables (migrations run as the owner) and that may only read and add audit rows. Run as the
owner or a superuser, after every migrate that adds an audit table.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg2 import sql


def audit_tables() -> list[str]:
    """The audit log, the change history tables, and the escalation events."""
    from escalations.models import Event

    tables = [model._meta.db_table for model in apps.get_app_config("audit").get_models()]
    return sorted({*tables, Event._meta.db_table})


class Command(BaseCommand):
    help = "Revoke UPDATE, DELETE, TRUNCATE on the audit tables from ROLE; grant SELECT, INSERT."

    def add_arguments(self, parser):
        parser.add_argument("role", help="the database role the portal connects as")

    def handle(self, *args, role: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("restrict_audit_privileges needs PostgreSQL.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            row = cursor.fetchone()
            if row is None:
                raise CommandError(f"There is no database role {role!r}.")
            if row[0]:
                raise CommandError(
                    f"{role!r} is a superuser: no privilege can be taken from it. "
                    "Run the portal as an ordinary role."
                )
            tables = audit_tables()
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE tablename = ANY(%s) "
                "AND pg_has_role(%s, tableowner, 'MEMBER')",
                [tables, role],
            )
            owned = [name for (name,) in cursor.fetchall()]
            if owned:
                raise CommandError(
                    f"{role!r} owns {', '.join(owned)} (or is a member of the owner): an owner "
                    "can grant itself anything back and disable triggers. Migrate as another role."
                )
            with transaction.atomic():
                for table in tables:
                    ident = sql.Identifier(table)
                    who = sql.Identifier(role)
                    cursor.execute(
                        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(ident, who)
                    )
                    cursor.execute(sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(ident, who))
        for table in tables:
            self.stdout.write(
                f"{table}: {role} may SELECT and INSERT; not UPDATE, DELETE, TRUNCATE"
            )
