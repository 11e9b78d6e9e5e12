import io
import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit.log import record
from audit.models import AuditEntry, EscalationChange
from escalations.models import Escalation
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="privileges and history triggers are PostgreSQL's"
)


def entry() -> AuditEntry:
    return record(None, kind=AuditEntry.Kind.SYSTEM, what="retention sweep")


def refusal(statement: str, params=()) -> str:
    """The database's error for a statement, run in a savepoint so the test goes on."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError as error:
        return str(error)
    return ""


def test_the_database_refuses_to_change_or_delete_an_audit_entry(db):
    kept = entry()

    assert "append-only" in refusal("UPDATE audit_auditentry SET what = 'nothing happened'")
    assert "append-only" in refusal("DELETE FROM audit_auditentry")
    kept.refresh_from_db()
    assert kept.what == "retention sweep"


def test_the_portal_refuses_to_save_or_delete_an_audit_entry_too(db):
    kept = entry()

    with pytest.raises(PermissionError):
        kept.save()
    with pytest.raises(PermissionError):
        kept.delete()


@postgresql_only
def test_the_applications_role_may_not_update_delete_or_truncate_the_audit_tables(db):
    role = f"portal_app_{uuid.uuid4().hex[:8]}"
    kept = entry()
    with connection.cursor() as cursor:
        # Rolled back with the test's transaction, like everything else here.
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cursor.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    call_command("restrict_audit_privileges", role, stdout=io.StringIO())

    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    try:
        for table in ("audit_auditentry", "escalations_event", "audit_escalationchange"):
            assert "permission denied" in refusal(f"UPDATE {table} SET id = id"), table
            assert "permission denied" in refusal(f"DELETE FROM {table}"), table
            assert "permission denied" in refusal(f"TRUNCATE {table}"), table
        # What the portal needs still works: reading and adding entries, changing escalations.
        assert refusal("SELECT count(*) FROM audit_auditentry") == ""
        assert entry().pk > kept.pk
        assert refusal("UPDATE escalations_escalation SET revision = revision") == ""
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@postgresql_only
def test_the_trigger_refuses_even_the_owner_of_the_table(db):
    entry()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        _, superuser = cursor.fetchone()

    assert superuser, "the test runs as the owner and superuser"
    assert "append-only" in refusal("UPDATE audit_auditentry SET what = 'x'")
    assert "append-only" in refusal("DELETE FROM audit_auditentry")


@postgresql_only
def test_the_restriction_refuses_a_role_that_owns_the_tables(db):
    from django.core.management.base import CommandError

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError, match=r"superuser|owns"):
        call_command("restrict_audit_privileges", owner)


@postgresql_only
def test_a_queryset_update_of_escalations_is_captured_in_the_change_history(world):
    escalation = OpenEscalationFactory()
    before = EscalationChange.objects.filter(pgh_obj=escalation).count()

    Escalation.objects.filter(pk=escalation.pk).update(learning="Bulk edit outside any service")

    latest = EscalationChange.objects.filter(pgh_obj=escalation).order_by("pgh_id").last()
    assert EscalationChange.objects.filter(pgh_obj=escalation).count() == before + 1
    assert latest.pgh_label == "update"
    assert latest.learning == "Bulk edit outside any service"


@postgresql_only
def test_the_sweep_marking_a_stage_overdue_is_recorded_by_its_event_not_a_row_copy(world):
    """ADR 0032: the sweep's own flags alone write no snapshot (the Overdue event and the
    notices record it); the next change by a person snapshots the row, the flags included."""
    from escalations.deadlines import sweep
    from escalations.models import EventKind

    escalation = OpenEscalationFactory(initial_discussion_on=date(2026, 11, 2))
    before = EscalationChange.objects.filter(pgh_obj=escalation).count()

    with time_machine.travel(datetime(2027, 1, 4, 10, tzinfo=UTC), tick=False):
        assert sweep().overdue == 1

    escalation.refresh_from_db()
    assert escalation.overdue and escalation.reminded
    assert escalation.events.filter(kind=EventKind.OVERDUE).count() == 1
    assert EscalationChange.objects.filter(pgh_obj=escalation).count() == before
    Escalation.objects.filter(pk=escalation.pk).update(learning="Written later")
    latest = EscalationChange.objects.filter(pgh_obj=escalation).order_by("pgh_id").last()
    assert EscalationChange.objects.filter(pgh_obj=escalation).count() == before + 1
    assert (latest.learning, latest.overdue, latest.reminded) == ("Written later", True, True)
    assert latest.event_count == escalation.event_count


@postgresql_only
def test_change_history_cannot_be_rewritten(world):
    OpenEscalationFactory()

    assert "Cannot update or delete rows" in refusal(
        "UPDATE audit_escalationchange SET learning = 'x'"
    )
    assert "Cannot update or delete rows" in refusal("DELETE FROM audit_escalationchange")


@postgresql_only
def test_the_child_history_keeps_no_names_dates_of_birth_or_addresses(world):
    OpenEscalationFactory()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_childchange'"
        )
        columns = {name for (name,) in cursor.fetchall()}
    assert columns.isdisjoint({"given_names", "family_name", "date_of_birth", "address"})


def test_the_admin_shows_audit_entries_read_only(db, client):
    admin_user = get_user_model().objects.create_superuser("auditor", password="x" * 16)
    kept = entry()
    sign_in(client, SimpleNamespace(user=admin_user))

    listing = client.get("/admin/audit/auditentry/")
    detail = client.get(f"/admin/audit/auditentry/{kept.pk}/change/")

    assert listing.status_code == 200 and b"retention sweep" in listing.content
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.get(f"/admin/audit/auditentry/{kept.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/audit/auditentry/{kept.pk}/change/", {"what": "x"}).status_code == 403
    )
