"""Deadlines enforced (SPEC section 7): the sweep that reminds holders, marks stages overdue
and tells stand-in approvers. The clock itself (due moments, the overdue rule, closure days and
the recalculation of running deadlines) is escalations.clock.

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
from datetime import datetime

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from cases.models import Membership
from escalations import approvals
from escalations.clock import (  # noqa: F401 (kept importable from here for callers)
    add_closure_day,
    moment_in_words,
    not_past_due_condition,
    past_due_condition,
    recalculate_deadlines,
    remove_closure_day,
)
from escalations.models import (
    LIVE_STATES,
    Escalation,
    Event,
    EventKind,
    Notice,
    NoticeKind,
    StageEpisode,
    State,
    deadline_notice_key,
)
from escalations.models.bulk import insert_rows
from escalations.services.child_file import remind_to_record_on_child_file
from policies.models import Role, Stage

BATCH = 5000


@dataclass
class SweepResult:
    reminded: int = 0
    overdue: int = 0
    child_file_reminders: int = 0
    notices: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


notice_key = deadline_notice_key


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
    # Agencies yet to confirm the child's file (issue 15, point 9): few rows, keyed notices.
    result.child_file_reminders = remind_to_record_on_child_file(now)
    result.notices += result.child_file_reminders
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
    "approval_asked_as",
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
    pending = Escalation.objects.filter(state__in=LIVE_STATES, overdue=False).filter(
        past_due_condition(now)
    )
    return _claim(pending, after, batch_size)


def _claim_reminders(now: datetime, after: int, batch_size: int) -> list[dict]:
    # A reminder for a due moment already passed would only be noise: the overdue notice says it.
    pending = Escalation.objects.filter(
        state__in=LIVE_STATES, reminded=False, reminder_at__lte=now
    ).filter(not_past_due_condition(now))
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
    # Due moments are few (mostly the ends of working days): each is put in words once.
    in_words: dict[datetime, str] = {}
    for row in rows:
        stage = stages[row["stage_id"]]
        if row["due_at"] not in in_words:
            in_words[row["due_at"]] = moment_in_words(row["due_at"])
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
                f"{in_words[row['due_at']]}.",
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
    insert_rows(Event, events)
    insert_rows(Notice, notices, ignore_conflicts=True)
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
    insert_rows(Notice, notices, ignore_conflicts=True)
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
    names: dict[int, str] = {}
    for agency_id, role, person_id, name in (
        Membership.objects.filter(
            agency_id__in={row["raising_agency_id"] for row in rows},
            role__in=gate.stand_in_roles,
            person__user__is_active=True,
        )
        .order_by("id")
        .values_list("agency_id", "role", "person_id", "person__full_name")
    ):
        names[person_id] = name
        if person_id not in people[agency_id][role]:
            people[agency_id][role].append(person_id)
    notices = []
    # The request is now put to stand-ins: its typed fields say so (the escalation page).
    asked: dict[tuple[str, str], list[int]] = defaultdict(list)
    kind = NoticeKind.APPROVAL_NEEDED_NO_LEAD
    for row in rows:
        esc_id = row["pk"]
        role, told = approvals.first_stand_ins(
            gate, people[row["raising_agency_id"]], row["approval_requested_by_id"]
        )
        if told and row["approval_asked_as"] != role:
            words = approvals.asked_in_words(role, [names[p] for p in told])[:300]
            asked[(role, words)].append(esc_id)
        episode = episodes.get(esc_id)
        occasion = requests.get(esc_id, 0)
        notices += [
            _notice(esc_id, episode, kind, person_id, None, now)
            | {"key": f"{esc_id}:{episode or 0}:{kind}:{person_id}:{occasion}"}
            for person_id in told
        ]
    for (role, words), ids_asked in asked.items():
        Escalation.objects.filter(pk__in=ids_asked).update(
            approval_asked_as=role, approval_asked_of=words
        )
    insert_rows(Notice, notices, ignore_conflicts=True)
