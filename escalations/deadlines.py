"""Deadlines enforced (SPEC section 7): the sweep that reminds holders and marks stages overdue,
and the recalculation of running deadlines when a partnership adds or removes a closure day.

Deadlines are data: the due and reminder moments are columns, and a periodic sweep acts on
every row whose moment has passed, however long nothing ran. The sweep is set-based (a few
queries per batch of rows, whatever the number of escalations) and safe to run twice at once:
it claims rows with `SELECT ... FOR UPDATE SKIP LOCKED`, so a second sweep (a second beat, a
redelivered task) passes over the rows the first holds and finds them done once it commits;
the notices it writes have unique keys, so a repeat is a no-op.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from cases.models import Membership
from escalations import approvals, services
from escalations.models import (
    LIVE_STATES,
    Escalation,
    Event,
    EventKind,
    Notice,
    NoticeKind,
    StageEpisode,
    State,
)
from policies.calendar import end_of_day, start_of_day
from policies.models import ClosureDay, Partnership, Role, Stage

BATCH = 5000


@dataclass
class SweepResult:
    reminded: int = 0
    overdue: int = 0
    notices: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def moment_in_words(moment: datetime | None) -> str:
    """'the end of Monday 4 January 2027', or '14:30 on Tuesday 3 November 2026'."""
    if moment is None:
        return "no time limit"
    local = timezone.localtime(moment)
    day = f"{local:%A} {local.day} {local:%B %Y}"
    if (local.hour, local.minute) == (23, 59):
        return f"the end of {day}"
    return f"{local:%H:%M} on {day}"


def notice_key(escalation_id: int, episode_id: int | None, kind: str, person_id: int, due) -> str:
    """The outbox key of a deadline notice: one per recipient per due moment of an episode, so a
    moved deadline (a closure day, Berkshire's next step) is a new notice and a repeat is not."""
    occasion = int(due.timestamp()) if due else 0
    return f"{escalation_id}:{episode_id or 0}:{kind}:{person_id}:due{occasion}"


def sweep(now: datetime | None = None, *, batch_size: int = BATCH) -> SweepResult:
    """One pass: mark what fell due overdue, remind what falls due soon. Idempotent."""
    started = time.monotonic()
    now = now or timezone.now()
    result = SweepResult()
    stages = {
        stage.pk: stage for stage in Stage.objects.only("pk", "number", "brings_in_partnership")
    }
    _in_batches(_claim_overdue, _mark_overdue, now, batch_size, stages, result)
    _in_batches(_claim_reminders, _remind, now, batch_size, stages, result)
    _in_batches(
        _claim_approvals_without_a_lead, _tell_stand_in_approvers, now, batch_size, stages, result
    )
    result.seconds = round(time.monotonic() - started, 3)
    return result


CLAIMED = (
    "pk",
    "event_count",
    "state",
    "stage_id",
    "holder_id",
    "raising_agency_id",
    "partnership_id",
    "due_at",
    "approval_requested_by_id",
)


def _claim(queryset, after: int, batch_size: int) -> list[dict]:
    # No joins: FOR UPDATE would lock the joined rows too (stages, partnerships), and a
    # concurrent sweep skipping those would skip everything that shares them.
    return list(
        queryset.select_for_update(skip_locked=True)
        .filter(pk__gt=after)
        .order_by("pk")
        .values(*CLAIMED)[:batch_size]
    )


def _claim_overdue(now: datetime, after: int, batch_size: int) -> list[dict]:
    pending = Escalation.objects.filter(state__in=LIVE_STATES, overdue=False, due_at__lte=now)
    return _claim(pending, after, batch_size)


def _claim_reminders(now: datetime, after: int, batch_size: int) -> list[dict]:
    # A reminder for a due moment already passed would only be noise: the overdue notice says it.
    pending = Escalation.objects.filter(
        state__in=LIVE_STATES, reminded=False, reminder_at__lte=now, due_at__gt=now
    )
    return _claim(pending, after, batch_size)


def _claim_approvals_without_a_lead(now: datetime, after: int, batch_size: int) -> list[dict]:
    waiting = Escalation.objects.filter(state=State.AWAITING_APPROVAL).filter(
        approvals.without_approvers()
    )
    return _claim(waiting, after, batch_size)


def _in_batches(claim, act, now, batch_size, stages, result) -> None:
    after = 0
    while True:
        # One transaction per batch: the row locks are held only while the batch is written.
        with transaction.atomic():
            rows = claim(now, after, batch_size)
            if not rows:
                return
            act(rows, now, stages, result)
        after = rows[-1]["pk"]


def _insert(model, rows: list[dict], *, ignore_conflicts: bool = False) -> None:
    """Insert many rows in one statement. On PostgreSQL the values go as one array per column
    through unnest(): a sweep writes tens of thousands of rows, and building model instances
    and per-value parameters costs more than the database's work."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**row) for row in rows], batch_size=2000, ignore_conflicts=ignore_conflicts
        )
        return
    columns = list(rows[0])
    fields = [model._meta.get_field(column) for column in columns]
    quote = connection.ops.quote_name
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 (names from the model, values as parameters)
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"SELECT * FROM unnest({arrays})" + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [[row[column] for row in rows] for column in columns])


def _notice(escalation_id, episode_id, kind, person_id, due, now) -> dict:
    return {
        "escalation_id": escalation_id,
        "episode_id": episode_id,
        "kind": kind,
        "recipient_id": person_id,
        "key": notice_key(escalation_id, episode_id, kind, person_id, due),
        "urgent": False,
        "created_at": now,
        "email_attempts": 0,
        "email_error": "",
        "email_given_up": False,
    }


def _current_episodes(ids: list[int]) -> dict[int, int]:
    episodes = {}
    for escalation_id, episode_id in (
        StageEpisode.objects.filter(escalation_id__in=ids, ended_at__isnull=True)
        .order_by("id")
        .values_list("escalation_id", "id")
    ):
        episodes[escalation_id] = episode_id  # the latest open one wins
    return episodes


class _People:
    """Who to tell about a batch of overdue stages, read in three queries."""

    MANAGER_ROLES = (Role.LINE_MANAGER, Role.SAFEGUARDING_LEAD, Role.SENIOR_MANAGER)

    def __init__(self, rows: list[dict]):
        holders = {row["holder_id"] for row in rows if row["holder_id"]}
        agencies = {row["raising_agency_id"] for row in rows}
        partnerships = {row["partnership_id"] for row in rows}
        self.holder_roles: dict[tuple[int, int], set[str]] = defaultdict(set)
        for person_id, agency_id, role in Membership.objects.filter(
            person_id__in=holders, agency__isnull=False
        ).values_list("person_id", "agency_id", "role"):
            self.holder_roles[(person_id, agency_id)].add(role)
        self.agency_people: dict[tuple[int, str], list[int]] = defaultdict(list)
        for agency_id, role, person_id in (
            Membership.objects.filter(
                agency_id__in=agencies, role__in=self.MANAGER_ROLES, person__user__is_active=True
            )
            .order_by("id")
            .values_list("agency_id", "role", "person_id")
        ):
            self.agency_people[(agency_id, role)].append(person_id)
        self.business_managers: dict[int, list[int]] = defaultdict(list)
        for partnership_id, person_id in (
            Membership.objects.filter(
                partnership_id__in=partnerships,
                role=Role.BUSINESS_MANAGER,
                person__user__is_active=True,
            )
            .order_by("id")
            .values_list("partnership_id", "person_id")
        ):
            self.business_managers[partnership_id].append(person_id)

    def manager(self, holder_id: int | None, agency_id: int) -> int | None:
        """The holder's line manager where the holder is a practitioner of the raising agency,
        else its safeguarding lead, else its senior manager; never the holder themself. (People
        carry no line-manager link: the agency's first line manager stands for it, the same
        rule services.acting_person uses.)"""
        roles = self.holder_roles.get((holder_id, agency_id), set())
        order = list(self.MANAGER_ROLES)
        if roles - {Role.PRACTITIONER}:
            order.remove(Role.LINE_MANAGER)
        for role in order:
            for person_id in self.agency_people.get((agency_id, role), []):
                if person_id != holder_id:
                    return person_id
        return None


def _mark_overdue(rows: list[dict], now: datetime, stages: dict, result: SweepResult) -> None:
    ids = [row["pk"] for row in rows]
    episodes = _current_episodes(ids)
    people = _People(rows)
    events, notices = [], []
    for row in rows:
        stage = stages[row["stage_id"]]
        esc_id, episode = row["pk"], episodes.get(row["pk"])
        events.append(
            {
                "escalation_id": esc_id,
                # The row is locked: nobody else can take this sequence number meanwhile.
                "sequence": row["event_count"] + 1,
                "kind": EventKind.OVERDUE,
                "actor_id": None,
                "actor_agency_id": None,
                "from_state": row["state"],
                "to_state": row["state"],
                "from_stage": stage.number,
                "to_stage": stage.number,
                "reason": f"The time limit for stage {stage.number} ran out at "
                f"{moment_in_words(row['due_at'])}.",
                "occurred_at": now,
            }
        )
        told = {}
        if row["holder_id"]:
            told[row["holder_id"]] = NoticeKind.OVERDUE
        manager = people.manager(row["holder_id"], row["raising_agency_id"])
        if manager:
            told.setdefault(manager, NoticeKind.OVERDUE_MANAGER)
        if stage.brings_in_partnership:
            for person_id in people.business_managers.get(row["partnership_id"], []):
                told.setdefault(person_id, NoticeKind.OVERDUE_MANAGER)
        notices += [
            _notice(esc_id, episode, kind, person_id, row["due_at"], now)
            for person_id, kind in told.items()
        ]
    Escalation.objects.filter(pk__in=ids).update(
        overdue=True, reminded=True, event_count=F("event_count") + 1
    )
    _insert(Event, events)
    _insert(Notice, notices, ignore_conflicts=True)
    result.overdue += len(rows)
    result.notices += len(notices)


def _remind(rows: list[dict], now: datetime, stages: dict, result: SweepResult) -> None:
    ids = [row["pk"] for row in rows]
    episodes = _current_episodes(ids)
    notices = [
        _notice(
            row["pk"],
            episodes.get(row["pk"]),
            NoticeKind.REMINDER,
            row["holder_id"],
            row["due_at"],
            now,
        )
        for row in rows
        if row["holder_id"]
    ]
    Escalation.objects.filter(pk__in=ids).update(reminded=True)
    _insert(Notice, notices, ignore_conflicts=True)
    result.reminded += len(notices)
    result.notices += len(notices)


def _tell_stand_in_approvers(
    rows: list[dict], now: datetime, stages: dict, result: SweepResult
) -> None:
    """Escalations awaiting approval whose raising agency has no active approver any more (the
    last safeguarding lead was deactivated, or lost the role, after the request): its
    stand-ins (escalations.approvals.first_stand_ins: senior managers, else line managers,
    never whoever asked) may already decide (approvals.may_decide); this tells them. The
    notices carry escalate()'s keys (the request's event sequence as the occasion), so a
    request that was put to them from the start, or a second sweep, adds nothing. Not counted
    in the result: most passes only find them already told."""
    gate = approvals.LEAD_GATE
    ids = [row["pk"] for row in rows]
    episodes = _current_episodes(ids)
    requests = dict(
        Event.objects.filter(escalation_id__in=ids, kind=EventKind.APPROVAL_REQUESTED)
        .values("escalation_id")
        .annotate(last=Max("sequence"))
        .values_list("escalation_id", "last")
    )
    people: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for agency_id, role, person_id in (
        Membership.objects.filter(
            agency_id__in={row["raising_agency_id"] for row in rows},
            role__in=gate.stand_in_roles,
            person__user__is_active=True,
        )
        .order_by("id")
        .values_list("agency_id", "role", "person_id")
    ):
        if person_id not in people[agency_id][role]:
            people[agency_id][role].append(person_id)
    notices = []
    kind = NoticeKind.APPROVAL_NEEDED_NO_LEAD
    for row in rows:
        esc_id = row["pk"]
        _, told = approvals.first_stand_ins(
            gate, people[row["raising_agency_id"]], row["approval_requested_by_id"]
        )
        episode = episodes.get(esc_id)
        occasion = requests.get(esc_id, 0)
        notices += [
            _notice(esc_id, episode, kind, person_id, None, now)
            | {"key": f"{esc_id}:{episode or 0}:{kind}:{person_id}:{occasion}"}
            for person_id in told
        ]
    _insert(Notice, notices, ignore_conflicts=True)


# --- closure days ----------------------------------------------------------------------------


def add_closure_day(
    partnership: Partnership, day: date, *, by, reason: str = ""
) -> tuple[ClosureDay, int]:
    """Add a closure day and move the running deadlines it falls inside (SPEC section 7).
    Returns the day and how many escalations' deadlines changed."""
    with transaction.atomic():
        closure = ClosureDay.objects.create(
            partnership=partnership, date=day, reason=reason.strip(), added_by=by
        )
        changed = recalculate_deadlines(
            partnership,
            since=day,
            by=by,
            why=f"Closure day {day.day} {day:%B %Y} added"
            + (f" ({closure.reason})" if closure.reason else ""),
        )
    return closure, changed


def remove_closure_day(closure: ClosureDay, *, by) -> int:
    """Remove a closure day; deadlines it had pushed back come forward again."""
    with transaction.atomic():
        partnership, day = closure.partnership, closure.date
        closure.delete()
        return recalculate_deadlines(
            partnership, since=day, by=by, why=f"Closure day {day.day} {day:%B %Y} removed"
        )


def _clock_start(escalation: Escalation) -> datetime:
    """When the current timed step's clock started: the stage start, or for a later step
    (Berkshire stage 1) the moment the step was entered."""
    if escalation.step:
        moved = (
            escalation.events.filter(kind=EventKind.STEP_ADVANCED)
            .order_by("-sequence")
            .values_list("occurred_at", flat=True)
            .first()
        )
        if moved:
            return moved
    return escalation.stage_started_at


def recalculate_deadlines(partnership: Partnership, *, since: date, by, why: str) -> int:
    """Recompute the due and reminder moments of the partnership's live escalations whose
    clock runs over `since`, with its calendar as it now stands; record each change."""
    calendar = partnership.calendar()
    now = timezone.now()
    actor = getattr(by, "person", None) if by is not None else None
    running = (
        Escalation.objects.live()
        .in_partnership(partnership)
        .filter(due_at__gte=start_of_day(since), stage_started_at__lte=end_of_day(since))
        .select_related("stage", "partnership", "raising_agency", "receiving_agency")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    changed = 0
    for esc in running:
        before_due, before_reminder = esc.due_at, esc.reminder_at
        was_overdue, was_reminded = esc.overdue, esc.reminded
        services.set_clock(esc, _clock_start(esc), calendar)
        if (esc.due_at, esc.reminder_at) == (before_due, before_reminder):
            continue
        # The clock never pauses: a later due moment still in the future lifts "overdue";
        # one that has passed keeps it, and the sweep marks any that now fall due.
        esc.overdue = was_overdue and esc.due_at <= now
        esc.reminded = was_reminded and esc.reminder_at <= now
        services.record_event(
            esc,
            EventKind.DEADLINE_RECALCULATED,
            actor,
            reason=f"{why}: now due by {moment_in_words(esc.due_at)}, "
            f"was {moment_in_words(before_due)}.",
        )
        esc.save(update_fields=["due_at", "reminder_at", "overdue", "reminded", "event_count"])
        episode = services.current_episode(esc)
        if episode is not None:
            episode.due_at = esc.due_at
            episode.save(update_fields=["due_at"])
        if esc.holder_id:
            Notice.objects.bulk_create(
                [
                    Notice(
                        escalation=esc,
                        episode=episode,
                        kind=NoticeKind.DEADLINE_CHANGED,
                        recipient_id=esc.holder_id,
                        key=notice_key(
                            esc.pk,
                            episode.pk if episode else None,
                            NoticeKind.DEADLINE_CHANGED,
                            esc.holder_id,
                            esc.due_at,
                        ),
                    )
                ],
                ignore_conflicts=True,
            )
        changed += 1
    return changed
