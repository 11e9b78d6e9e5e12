"""escalations.clock: one way to say a moment in words, one overdue rule at its boundary, and
closure days from every source moving running deadlines through one recalculation.

SPEC section 7: "N working days" from a moment ends at the end of the Nth working day; the
stage is overdue once that moment has passed."""

import shutil
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml
from django.core.management import call_command

from escalations import clock, deadlines, presenters
from escalations.dashboards.queries import list_rows, overdue_now
from escalations.dashboards.views import present_row
from escalations.models import Escalation, EventKind, Notice, NoticeKind
from policies.calendar import end_of_day
from policies.loading import LADDER_DIR
from policies.models import ClosureDay
from tests.factories import OpenEscalationFactory

LONDON = ZoneInfo("Europe/London")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


# --- one formatter ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (end_of_day(date(2027, 1, 4)), "the end of Monday 4 January 2027"),
        (at(2027, 1, 4, 23, 59), "the end of Monday 4 January 2027"),
        (at(2027, 1, 4, 23, 58), "11:58pm on Monday 4 January 2027"),
        (at(2026, 11, 23, 15, 30), "3:30pm on Monday 23 November 2026"),
        (at(2026, 11, 23, 9, 0), "9am on Monday 23 November 2026"),
        (at(2026, 11, 23, 0, 0), "midnight on Monday 23 November 2026"),
        (at(2026, 11, 23, 12, 0), "midday on Monday 23 November 2026"),
        # In summer time the same wall-clock words: the portal speaks London time.
        (datetime(2026, 7, 1, 13, 5, tzinfo=ZoneInfo("UTC")), "2:05pm on Wednesday 1 July 2026"),
    ],
)
def test_a_moment_is_said_one_way_everywhere(moment, words):
    assert clock.moment_in_words(moment) == words
    # The pages, the emails, the sweep's events and the record all say it with this one.
    assert presenters.moment_in_words is clock.moment_in_words
    assert deadlines.moment_in_words is clock.moment_in_words


def test_the_record_adds_the_time_zone_to_the_same_words():
    from escalations.record.render import moment

    assert moment(at(2026, 11, 23, 15, 30)) == "3:30pm GMT on Monday 23 November 2026"
    assert moment(at(2026, 7, 1, 15, 30)) == "3:30pm BST on Wednesday 1 July 2026"
    assert moment(end_of_day(date(2027, 1, 4))) == "the end of Monday 4 January 2027"


# --- one overdue rule -------------------------------------------------------------------------


def test_a_due_moment_is_not_passed_at_the_moment_itself_only_after_it():
    due = end_of_day(date(2027, 1, 4))
    assert not clock.past_due(due, due - timedelta(microseconds=1))
    assert not clock.past_due(due, due)
    assert clock.past_due(due, due + timedelta(microseconds=1))
    assert not clock.past_due(None, due)


def test_the_sweep_the_pages_and_the_dashboards_agree_at_the_boundary(world):
    with time_machine.travel(at(2026, 12, 23, 10), tick=False):
        esc = OpenEscalationFactory(initial_discussion_on=date(2026, 12, 23))
    due = esc.due_at
    assert due == end_of_day(date(2027, 1, 4))
    calendar = world.kirklees.calendar()
    for now, overdue in ((due, False), (due + timedelta(seconds=1), True)):
        esc = Escalation.objects.with_summary().get(pk=esc.pk)
        assert clock.is_overdue(esc, now) is overdue
        assert presenters.deadline(esc, now=now, calendar=calendar).overdue is overdue
        assert presenters.due_in_words(due, now=now, calendar=calendar).startswith("overdue") is (
            overdue
        )
        counted = Escalation.objects.filter(pk=esc.pk).filter(overdue_now(now)).exists()
        assert counted is overdue
        with time_machine.travel(now, tick=False):
            row = list_rows(Escalation.objects.filter(pk=esc.pk), world.ivan.user).get()
            assert present_row(row)["overdue"] is overdue
            assert deadlines.sweep().overdue == (1 if overdue else 0)
        esc.refresh_from_db()
        assert esc.overdue is overdue


# --- closure days from every source -----------------------------------------------------------


def test_a_closure_day_added_by_the_ladder_file_moves_running_deadlines(world, tmp_path):
    # Raised Monday 2 November 2026: stage 1 is due by the end of Monday 9 November.
    esc = OpenEscalationFactory()
    assert esc.due_at == end_of_day(date(2026, 11, 9))
    folder = tmp_path / "ladders"
    shutil.copytree(LADDER_DIR, folder)
    path = folder / "kirklees.yaml"
    data = yaml.safe_load(path.read_text())
    data["partnership"]["closure_days"] = ["2026-11-05"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    out = StringIO()
    call_command("load_policies", "--dir", str(folder), stdout=out)

    assert "kirklees: 1 closure day(s) added, 1 running deadline(s) recalculated" in out.getvalue()
    esc.refresh_from_db()
    assert esc.due_at == end_of_day(date(2026, 11, 10))
    event = esc.events.get(kind=EventKind.DEADLINE_RECALCULATED)
    assert event.reason == (
        "Closure day 5 November 2026 added (from the ladder file): now due by the end of "
        "Tuesday 10 November 2026, was the end of Monday 9 November 2026."
    )
    assert event.sequence == esc.event_count
    assert esc.episodes.get(ended_at__isnull=True).due_at == esc.due_at
    holder = Notice.objects.get(escalation=esc, kind=NoticeKind.DEADLINE_CHANGED)
    assert holder.recipient == world.alice

    # Loading the same file again adds no day and moves nothing.
    again = StringIO()
    call_command("load_policies", "--dir", str(folder), stdout=again)
    assert "closure day" not in again.getvalue()
    assert esc.events.filter(kind=EventKind.DEADLINE_RECALCULATED).count() == 1
    assert ClosureDay.objects.filter(partnership=world.kirklees).count() == 1


def test_the_admin_and_the_ladder_file_move_a_deadline_the_same_way(world):
    by_admin = OpenEscalationFactory()
    clock.add_closure_day(world.kirklees, date(2026, 11, 5), by=None, reason="Training")
    by_admin.refresh_from_db()
    other = OpenEscalationFactory()  # raised after: already on the calendar with the day
    assert by_admin.due_at == other.due_at == end_of_day(date(2026, 11, 10))


def test_a_closure_day_added_removed_and_added_again_gives_one_new_notice_each_time(world):
    esc = OpenEscalationFactory()  # due by the end of Monday 9 November 2026

    def changes() -> int:
        return Notice.objects.filter(escalation=esc, kind=NoticeKind.DEADLINE_CHANGED).count()

    clock.add_closure_day(world.kirklees, date(2026, 11, 5), by=None, reason="Training")
    assert changes() == 1
    clock.remove_closure_day(ClosureDay.objects.get(partnership=world.kirklees), by=None)
    assert changes() == 2
    clock.add_closure_day(world.kirklees, date(2026, 11, 5), by=None, reason="Training")
    # Due by the end of Tuesday 10 November again: a new change, so exactly one new notice.
    esc.refresh_from_db()
    assert esc.due_at == end_of_day(date(2026, 11, 10))
    assert changes() == 3
    latest = Notice.objects.filter(escalation=esc, kind=NoticeKind.DEADLINE_CHANGED).latest("pk")
    assert latest.emailed_at is None and latest.recipient == esc.holder
