"""The deadline sweep, travelling in time: reminders, overdue, weekends, bank holidays,
Berkshire's 24 hours, closure days, and a sweep that catches up after downtime."""

import json
import re
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations import deadlines, services
from escalations.models import Escalation, Event, EventKind, Notice, NoticeKind
from tests.factories import EscalationAtStageFactory, OpenEscalationFactory
from tests.helpers import sign_in

LONDON = ZoneInfo("Europe/London")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def sweep_at(moment: datetime) -> deadlines.SweepResult:
    with time_machine.travel(moment, tick=False):
        return deadlines.sweep()


def notices(esc, kind) -> list[str]:
    return sorted(
        Notice.objects.filter(escalation=esc, kind=kind).values_list(
            "recipient__user__username", flat=True
        )
    )


def events(esc, kind) -> int:
    return Event.objects.filter(escalation=esc, kind=kind).count()


def raise_at(world, moment: datetime, **overrides) -> Escalation:
    with time_machine.travel(moment, tick=False):
        return OpenEscalationFactory(initial_discussion_on=moment.date(), **overrides)


def test_holder_is_reminded_on_the_last_working_day_before_christmas_deadline(world):
    # SPEC section 7: from Wed 23 Dec 2026, 5 working days end on Mon 4 Jan 2027
    # (25 Dec, 28 Dec substitute Boxing Day and 1 Jan are bank holidays).
    esc = raise_at(world, at(2026, 12, 23, 10))
    assert timezone_date(esc.due_at) == date(2027, 1, 4)

    assert sweep_at(at(2026, 12, 31, 23, 0)).reminded == 0
    assert sweep_at(at(2027, 1, 1, 12, 0)).reminded == 0  # New Year's Day: not a working day
    assert sweep_at(at(2027, 1, 4, 0, 5)).reminded == 1
    assert notices(esc, NoticeKind.REMINDER) == ["alice"]
    assert sweep_at(at(2027, 1, 4, 9, 0)).reminded == 0  # once only


def test_stage_falls_overdue_after_the_end_of_its_last_working_day_and_people_are_told(world):
    esc = raise_at(world, at(2026, 12, 23, 10))
    assert sweep_at(at(2027, 1, 4, 23, 50)).overdue == 0
    result = sweep_at(at(2027, 1, 5, 0, 1))
    assert result.overdue == 1
    esc.refresh_from_db()
    assert esc.overdue
    # Alice holds it and is prompted to escalate; Bob, her line manager, is told.
    assert notices(esc, NoticeKind.OVERDUE) == ["alice"]
    assert notices(esc, NoticeKind.OVERDUE_MANAGER) == ["bob"]
    assert events(esc, EventKind.OVERDUE) == 1
    event = esc.events.get(kind=EventKind.OVERDUE)
    assert event.sequence == esc.event_count
    assert "Monday 4 January 2027" in event.reason
    second = sweep_at(at(2027, 1, 5, 0, 6))
    assert (second.overdue, second.notices) == (0, 0)
    assert events(esc, EventKind.OVERDUE) == 1


def test_reminder_two_working_days_ahead_skips_the_weekend(world):
    world.kirklees.reminder_working_days = 2
    world.kirklees.save()
    # Mon 2 Nov 2026 + 5 working days = end of Mon 9 Nov; the last two working days are
    # Friday 6 and Monday 9, so the reminder comes at the start of Friday.
    esc = raise_at(world, at(2026, 11, 2, 10))
    assert sweep_at(at(2026, 11, 5, 23, 59)).reminded == 0
    assert sweep_at(at(2026, 11, 6, 0, 1)).reminded == 1
    assert sweep_at(at(2026, 11, 7, 12)).reminded == 0
    assert sweep_at(at(2026, 11, 9, 12)).overdue == 0
    assert sweep_at(at(2026, 11, 10, 0, 1)).overdue == 1
    assert notices(esc, NoticeKind.REMINDER) == ["alice"]


def test_a_spring_bank_holiday_pushes_the_deadline_one_working_day_later(world):
    # Fri 22 May 2026 + 5 working days: Monday 25 May is the spring bank holiday, so the
    # stage is due by the end of Monday 1 June, not Friday 29 May.
    esc = raise_at(world, at(2026, 5, 22, 9))
    assert timezone_date(esc.due_at) == date(2026, 6, 1)
    assert sweep_at(at(2026, 5, 30, 12, 0)).overdue == 0
    assert sweep_at(at(2026, 6, 1, 23, 0)).overdue == 0
    assert sweep_at(at(2026, 6, 2, 0, 1)).overdue == 1


def test_berkshire_line_managers_have_24_elapsed_hours_weekend_or_not(world):
    berks = world.berkshire
    with time_machine.travel(at(2026, 11, 5, 11), tick=False):
        esc = OpenEscalationFactory(
            by=world.oscar,
            child=services.ChildDetails(home_partnership=berks, given_names="Sam"),
            raising_agency=world.berkshire_school,
            receiving_agency=world.constabulary,
            receiving_person=None,
            initial_discussion_on=date(2026, 11, 5),
        )
    # Step one: discussion within 1 working day (end of Friday 6 November).
    assert timezone_date(esc.due_at) == date(2026, 11, 6)
    assert sweep_at(at(2026, 11, 6, 0, 5)).reminded == 1
    with time_machine.travel(at(2026, 11, 6, 16), tick=False):
        esc = services.advance_step(esc, by=world.oscar, note="Discussion did not resolve it.")
    # Step two: the line managers' contact within 24 hours: Saturday 16:00, weekend or not.
    assert esc.due_at == at(2026, 11, 7, 16)
    assert sweep_at(at(2026, 11, 7, 3, 59)).reminded == 0
    assert sweep_at(at(2026, 11, 7, 4, 1)).reminded == 1  # half-way through the 24 hours
    assert sweep_at(at(2026, 11, 7, 15, 59)).overdue == 0
    assert sweep_at(at(2026, 11, 7, 16, 1)).overdue == 1
    assert notices(esc, NoticeKind.REMINDER) == ["oscar", "oscar"]  # one per step
    assert notices(esc, NoticeKind.OVERDUE) == ["oscar"]


def test_at_the_partnership_stage_the_business_manager_and_the_safeguarding_lead_are_told(
    world,
):
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        esc = EscalationAtStageFactory(stage=5, initial_discussion_on=date(2026, 11, 2))
    assert esc.stage.number == 5 and esc.holder == world.dan
    assert sweep_at(at(2026, 11, 20, 9)).overdue == 1
    assert notices(esc, NoticeKind.OVERDUE) == ["dan"]
    # Dan heads the service, so the safeguarding lead stands above him; Ivan keeps the record.
    assert notices(esc, NoticeKind.OVERDUE_MANAGER) == ["carol", "ivan"]


def test_a_sweep_after_hours_of_downtime_catches_up_on_its_first_run(world):
    raised = [raise_at(world, at(2026, 11, day, 10)) for day in (2, 3, 4, 5)]
    # Nothing ran from Monday 2 until Thursday 12 November, 15:00.
    result = sweep_at(at(2026, 11, 12, 15))
    # Due end of 9, 10, 11 Nov: overdue; due end of 12 Nov: reminded (its last working day).
    assert (result.overdue, result.reminded) == (3, 1)
    assert [e.pk for e in Escalation.objects.overdue().order_by("pk")] == [e.pk for e in raised[:3]]
    # The ones already overdue get no stale "due soon" reminder.
    assert Notice.objects.filter(kind=NoticeKind.REMINDER).count() == 1
    again = sweep_at(at(2026, 11, 12, 15, 5))
    assert (again.overdue, again.reminded, again.notices) == (0, 0, 0)


def test_the_sweep_runs_the_same_queries_for_three_escalations_as_for_thirty(world):
    for day in (2, 3, 4):
        raise_at(world, at(2026, 11, day, 10))
    with CaptureQueriesContext(connection) as few:
        assert sweep_at(at(2026, 11, 20)).overdue == 3
    for _ in range(10):
        for day in (2, 3, 4):
            raise_at(world, at(2026, 11, day, 11))
    with CaptureQueriesContext(connection) as many:
        assert sweep_at(at(2026, 11, 20)).overdue == 30
    assert statements(many) == statements(few)


def statements(queries: CaptureQueriesContext) -> list[str]:
    """The sweep's statements, each once: an INSERT of many rows that the database driver
    splits into batches (SQLite takes at most 999 values a statement) is still one statement
    of the sweep, not a query per escalation."""
    shapes = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if sql.startswith("INSERT"):  # the table and columns, not the values
            shape = re.split(r" VALUES | SELECT ", sql)[0]
        else:
            shape = re.sub(r"\d+", "N", sql)
        shape = re.sub(r"IN \([^()]*\)", "IN (...)", shape)
        shape = re.sub(r"'[^']*'", "'...'", shape)  # the values a statement carries
        # One arm per group of rows (each agency's stand-ins) is still one statement.
        shape = re.sub(r"(?: WHEN \(.*?\) THEN '\.\.\.')+", " WHEN (...) THEN '...'", shape)
        if not shapes or shapes[-1] != shape or not sql.startswith("INSERT"):
            shapes.append(shape)
    return shapes


def test_a_closure_day_moves_running_deadlines_and_each_change_is_recorded(world):
    first = raise_at(world, at(2026, 11, 2, 10))  # due end of Monday 9 November
    later = raise_at(world, at(2026, 11, 10, 9))  # its clock starts after the closure day
    sweep_at(at(2026, 11, 10, 9, 5))
    first.refresh_from_db()
    assert first.overdue
    later_due = Escalation.objects.get(pk=later.pk).due_at

    with time_machine.travel(at(2026, 11, 10, 9, 30), tick=False):
        closure, changed = deadlines.add_closure_day(
            world.kirklees, date(2026, 11, 6), by=world.kim.user, reason="Staff training"
        )
    assert changed == 1
    first.refresh_from_db()
    # A working day fewer: due by the end of Tuesday 10 November, so no longer overdue.
    assert timezone_date(first.due_at) == date(2026, 11, 10)
    assert not first.overdue
    assert first.episodes.get(ended_at__isnull=True).due_at == first.due_at
    event = first.events.get(kind=EventKind.DEADLINE_RECALCULATED)
    assert "Closure day 6 November 2026 added (Staff training)" in event.reason
    assert "Tuesday 10 November 2026" in event.reason
    assert notices(first, NoticeKind.DEADLINE_CHANGED) == ["alice"]
    assert Escalation.objects.get(pk=later.pk).due_at == later_due
    assert closure.added_by == world.kim.user

    # The clock runs on: it falls overdue again at its new moment, and is told afresh.
    assert sweep_at(at(2026, 11, 11, 0, 1)).overdue == 1
    assert events(first, EventKind.OVERDUE) == 2
    assert notices(first, NoticeKind.OVERDUE) == ["alice", "alice"]

    with time_machine.travel(at(2026, 11, 11, 9), tick=False):
        assert deadlines.remove_closure_day(closure, by=world.kim.user) == 1
    first.refresh_from_db()
    assert timezone_date(first.due_at) == date(2026, 11, 9)
    assert first.overdue


def test_adding_a_closure_day_in_the_admin_recalculates_deadlines(world, client):
    first = raise_at(world, at(2026, 11, 2, 10))
    world.kim.user.is_staff = world.kim.user.is_superuser = True
    world.kim.user.save()
    sign_in(client, world.kim)
    with time_machine.travel(at(2026, 11, 4, 10), tick=False):
        response = client.post(
            "/admin/policies/closureday/add/",
            {"partnership": world.kirklees.pk, "date": "2026-11-06", "reason": "Training"},
            follow=True,
        )
    assert response.status_code == 200
    assert b"1 running escalation(s) changed" in response.content
    first.refresh_from_db()
    assert timezone_date(first.due_at) == date(2026, 11, 10)
    assert first.events.filter(kind=EventKind.DEADLINE_RECALCULATED).exists()


def test_sweep_command_after_seeding_has_work_once_and_then_none(db):
    call_command("seed_demo", escalations=300, quiet=True, stdout=StringIO())
    out = StringIO()
    call_command("sweep_deadlines", json=True, stdout=out)
    first = json.loads(out.getvalue())
    assert set(first) == {"reminded", "overdue", "child_file_reminders", "notices", "seconds"}
    assert first["overdue"] > 0 and first["notices"] >= first["overdue"]
    out = StringIO()
    call_command("sweep_deadlines", json=True, stdout=out)
    second = json.loads(out.getvalue())
    assert (second["reminded"], second["overdue"], second["notices"]) == (0, 0, 0)
    out = StringIO()
    call_command("sweep_deadlines", stdout=out)
    assert "0 marked overdue" in out.getvalue()


def timezone_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()
