"""The deadline sweep at scale (issue 18, point 3): set-based, a bounded number of statements
however many stages fall due, and doing on a random demo set exactly what a plain reading of the
rules, one escalation at a time, says it should: who is marked overdue or reminded, which events
are written, and which notices go to whom with which keys, each to someone who may open the
escalation."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.demo import seed_people
from cases.models import Membership
from escalations import deadlines
from escalations.clock import moment_in_words, past_due
from escalations.demo import seed_escalations
from escalations.models import (
    LIVE_STATES,
    ChildFileRecord,
    Escalation,
    Event,
    EventKind,
    Notice,
    NoticeKind,
    State,
    deadline_notice_key,
)
from escalations.models.bulk import insert_rows
from policies.calendar import local_zone
from policies.models import Role
from tests.escalations.test_deadlines import statements
from tests.factories import EscalationAtStageFactory

SWEPT_KINDS = (
    NoticeKind.OVERDUE,
    NoticeKind.OVERDUE_MANAGER,
    NoticeKind.REMINDER,
    NoticeKind.CHILD_FILE_REMINDER,
)


def seeded(n: int, seed: int) -> None:
    call_command("load_policies", stdout=StringIO())
    seed_people()
    seed_escalations(n, seed=seed)


def active_people(**filters) -> list[int]:
    return list(
        Membership.objects.filter(person__user__is_active=True, **filters)
        .order_by("id")
        .values_list("person_id", flat=True)
    )


def manager_of(esc: Escalation) -> int | None:
    """SPEC section 7, one escalation at a time: the holder's line manager where the holder is
    a practitioner of the raising agency (the agency's first line manager), else its
    safeguarding lead, else its senior manager; never the holder."""
    roles = set(
        Membership.objects.filter(
            person_id=esc.holder_id, agency_id=esc.raising_agency_id
        ).values_list("role", flat=True)
    )
    order = [Role.LINE_MANAGER, Role.SAFEGUARDING_LEAD, Role.SENIOR_MANAGER]
    if roles - {Role.PRACTITIONER}:
        order.remove(Role.LINE_MANAGER)
    for role in order:
        for person_id in active_people(agency_id=esc.raising_agency_id, role=role):
            if person_id != esc.holder_id:
                return person_id
    return None


def current_episode_id(esc: Escalation) -> int | None:
    episode = esc.episodes.filter(ended_at__isnull=True).order_by("-id").first()
    return episode.pk if episode else None


def deadline_notices(esc: Escalation, now: datetime) -> set[tuple]:
    """What one live escalation's deadlines say should be sent now."""
    episode = current_episode_id(esc)
    told: dict[int, str] = {}
    if not esc.overdue and past_due(esc.due_at, now):
        if esc.holder_id:
            told[esc.holder_id] = NoticeKind.OVERDUE
        manager = manager_of(esc)
        if manager:
            told.setdefault(manager, NoticeKind.OVERDUE_MANAGER)
        if esc.stage.brings_in_partnership:
            for person_id in active_people(
                partnership_id=esc.partnership_id, role=Role.BUSINESS_MANAGER
            ):
                told.setdefault(person_id, NoticeKind.OVERDUE_MANAGER)
    elif (
        not esc.reminded
        and esc.reminder_at is not None
        and esc.reminder_at <= now
        and not past_due(esc.due_at, now)
        and esc.holder_id
    ):
        told[esc.holder_id] = NoticeKind.REMINDER
    return {
        (esc.pk, kind, person_id, deadline_notice_key(esc.pk, episode, kind, person_id, esc.due_at))
        for person_id, kind in told.items()
    }


def child_file_notices(esc: Escalation, now: datetime) -> set[tuple]:
    """The child's-file reminders one escalation is owed now (issue 15, point 9), read one
    escalation at a time with the partnership's own calendar."""
    partnership = esc.partnership
    every, at_most = partnership.child_file_reminder_every, partnership.child_file_reminders_at_most
    if not partnership.child_file_record or every <= 0:
        return set()
    resolved = esc.state in (State.RESOLVED, State.CLOSED)
    if resolved:
        since = esc.resolved_on
    elif esc.state in LIVE_STATES and partnership.child_file_at_each_stage:
        since = esc.stage_started_at
    else:
        return set()
    # The sweep looks back only as far as its last reminder could reach.
    if since is None or since < now - timedelta(days=every * at_most * 7 // 5 + 21):
        return set()
    days = partnership.calendar().working_days_between(
        since.astimezone(local_zone()).date(), now.astimezone(local_zone()).date()
    )
    reminder = min(days // every, at_most)
    if reminder < 1:
        return set()
    asked = 0 if resolved else esc.stage.number
    holder_agencies = set(
        Membership.objects.filter(person_id=esc.holder_id).values_list("agency_id", flat=True)
    )
    latest = esc.episodes.order_by("started_at").last()
    raising = [esc.raised_by_id]
    if esc.raising_agency_id in holder_agencies:
        raising.append(esc.holder_id)
    receiving = [esc.receiving_person_id or (latest.counterpart_id if latest else None)]
    people = set()
    for agency_id, who in ((esc.raising_agency_id, raising), (esc.receiving_agency_id, receiving)):
        confirmed = ChildFileRecord.objects.filter(
            escalation=esc, agency_id=agency_id, stage_number=asked
        ).exists()
        if not confirmed:
            people |= {p for p in who if p and p in set(active_people(person_id=p))}
    kind = NoticeKind.CHILD_FILE_REMINDER
    return {
        (esc.pk, kind, p, f"{esc.pk}:0:{kind}:{p}:childfile:s{asked}:r{reminder}") for p in people
    }


@pytest.mark.parametrize("seed", [7, 2026])
def test_the_sweep_does_what_a_reading_one_escalation_at_a_time_says_on_a_random_demo_set(db, seed):
    seeded(400, seed)
    now = timezone.now().replace(microsecond=0)
    # scoped-lookup: allowed (the test reads every escalation to check the sweep's work)
    everything = list(Escalation.objects.select_related("partnership", "stage").order_by("pk"))
    expected, overdue, counts = set(), set(), {}
    for esc in everything:
        expected |= child_file_notices(esc, now)
        if esc.state in LIVE_STATES:
            expected |= deadline_notices(esc, now)
            if not esc.overdue and past_due(esc.due_at, now):
                overdue.add(esc.pk)
        counts[esc.pk] = esc.event_count
    assert overdue and any(kind == NoticeKind.CHILD_FILE_REMINDER for _, kind, _, _ in expected)

    with time_machine.travel(now, tick=False):
        result = deadlines.sweep()

    written = set(
        Notice.objects.filter(kind__in=SWEPT_KINDS).values_list(
            "escalation_id", "kind", "recipient_id", "key"
        )
    )
    assert written == expected
    assert result.notices == len(expected)
    assert result.overdue == len(overdue)
    marked = set(Escalation.objects.filter(overdue=True).values_list("pk", flat=True))
    assert marked >= overdue
    by_pk = {esc.pk: esc for esc in everything}
    for event in Event.objects.filter(kind=EventKind.OVERDUE):
        esc = by_pk[event.escalation_id]
        assert event.sequence == counts[esc.pk] + 1
        assert event.reason == (
            f"The time limit for stage {esc.stage.number} ran out at {moment_in_words(esc.due_at)}."
        )
    assert Event.objects.filter(kind=EventKind.OVERDUE).count() == len(overdue)
    # Notices only to people who may open the escalation (ADR 0022).
    for notice in Notice.objects.filter(kind__in=SWEPT_KINDS).select_related("recipient__user"):
        assert (
            Escalation.objects.visible_to(notice.recipient.user)
            .filter(pk=notice.escalation_id)
            .exists()
        ), notice.key

    with time_machine.travel(now + timedelta(seconds=1), tick=False):
        again = deadlines.sweep()
    assert (again.overdue, again.reminded, again.notices) == (0, 0, 0)


def test_the_sweep_runs_the_same_statements_for_three_hundred_escalations_as_for_three_thousand(db):
    seeded(300, 11)
    with CaptureQueriesContext(connection) as few:
        small = deadlines.sweep()
    seed_escalations(3000, seed=11)  # 2,700 more, never swept
    with CaptureQueriesContext(connection) as many:
        large = deadlines.sweep()
    for result in (small, large):
        assert result.overdue and result.reminded and result.child_file_reminders
    assert large.notices > 5 * small.notices
    assert statements(many) == statements(few)
    # Every phase (overdue, reminders, stand-ins, child's file), savepoints included.
    assert len(statements(many)) <= 64


def test_many_rows_written_at_once_keep_every_value_as_given(db, world):
    # The sweep's insert writes values as PostgreSQL array literals: what needs quoting must
    # come back as it went in.
    esc = EscalationAtStageFactory(stage=1)
    awkward = ["plain", 'a "quoted", comma', "back\\slash", "NULL", "", " spaced ", "{braces}", "é"]
    rows = [
        {
            "escalation_id": esc.pk,
            "kind": NoticeKind.REMINDER,
            "recipient_id": world.alice.pk,
            "key": f"awkward:{n}",
            "email_error": text,
            "episode_id": None,
            "created_at": timezone.now(),
        }
        for n, text in enumerate(awkward)
    ]
    assert insert_rows(Notice, rows, ignore_conflicts=True) == len(awkward)
    assert insert_rows(Notice, rows[:2], ignore_conflicts=True) == 0  # already there
    stored = dict(
        Notice.objects.filter(key__startswith="awkward:").values_list("key", "email_error")
    )
    assert stored == {f"awkward:{n}": text for n, text in enumerate(awkward)}
    assert not Notice.objects.filter(key__startswith="awkward:", urgent=True).exists()
