"""A deploy check: the portal must not connect as a role that can change the audit log.

The append-only triggers stop UPDATE and DELETE, but a table's owner or a superuser can disable
them and no row trigger sees TRUNCATE; restrict_audit_privileges takes those rights away from
the application's role. `manage.py check --deploy --tag database_role` fails, naming the
rights, when the role the portal runs as still has them (docker-compose runs it before the
web server starts)."""

from __future__ import annotations

from django.core.checks import Error, register
from django.db import connection

RIGHTS = ("UPDATE", "DELETE", "TRUNCATE")


def audit_role_problems() -> list[str]:
    """What the connected role may do to the audit tables that it must not; empty when it is
    restricted, or on SQLite (no roles: development only)."""
    if connection.vendor != "postgresql":
        return []
    from audit.management.commands.restrict_audit_privileges import audit_tables

    problems = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        role, superuser = cursor.fetchone()
        if superuser:
            return [f"{role} is a superuser"]
        for table in audit_tables():
            cursor.execute(
                "SELECT tableowner = current_user FROM pg_tables WHERE tablename = %s", [table]
            )
            row = cursor.fetchone()
            if row is None:
                continue  # not migrated yet
            if row[0]:
                problems.append(f"{role} owns {table}")
                continue
            for right in RIGHTS:
                cursor.execute("SELECT has_table_privilege(%s, %s)", [table, right])
                if cursor.fetchone()[0]:
                    problems.append(f"{role} may {right} {table}")
    return problems


@register("database_role", deploy=True)
def check_audit_role(app_configs=None, **kwargs):
    problems = audit_role_problems()
    if not problems:
        return []
    return [
        Error(
            "The portal connects as a database role that can change or remove audit rows: "
            + "; ".join(problems[:5])
            + ("; ..." if len(problems) > 5 else "")
            + ".",
            hint="Connect as the restricted role (portal_app in docker-compose.yml); run "
            "migrations as the owner, then `manage.py restrict_audit_privileges <role>`.",
            id="audit.E001",
        )
    ]
