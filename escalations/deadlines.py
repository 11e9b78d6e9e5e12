"""Deadlines enforced (SPEC section 7): the sweep that reminds holders, marks stages overdue
and tells stand-in approvers. The clock itself (due moments, the overdue rule, closure days and
the recalculation of running deadlines) is escalations.clock.

Deadlines are data: the due and reminder moments are columns, and a periodic sweep acts on
every row whose moment has passed, however long nothing ran. The sweep is set-based (a few
queries per batch of rows, whatever the number of escalations) and safe to run twice at once:
it claims a batch by setting its flags in one `UPDATE ... RETURNING` (the stand-in pass, which
sets none, with `SELECT ... FOR UPDATE SKIP LOCKED`), so a second sweep (a second beat, a
redelivered task) waits for the rows the first holds and finds them done once it commits;
the notices it writes have unique keys, so a repeat is a no-op (ADR 0035).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Case, Max, OuterRef, Subquery, Value, When
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
    # The claim sets the flags (and counts the Overdue event); the batch then writes the
    # event and the notices.
    overdue = ('"overdue" = %s, "reminded" = %s, "event_count" = "event_count" + 1', [True, True])
    _in_batches(_overdue(now), _mark_overdue, now, batch_size, stages, result, sets=overdue)
    reminded = ('"reminded" = %s', [True])
    _in_batches(_to_remind(now), _remind, now, batch_size, stages, result, sets=reminded)
    _in_batches(
        _approvals_without_a_lead(now), _tell_stand_in_approvers, now, batch_size, stages, result
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


def _claim(pending) -> list[dict]:
    """Lock what of these rows is still pending and free, with the stage as it is living it
    now (the latest open episode), in one query."""
    episode = StageEpisode.objects.filter(escalation=OuterRef("pk"), ended_at__isnull=True)
    # No joins: FOR UPDATE would lock the joined rows too (stages, partnerships), and a
    # concurrent sweep skipping those would skip everything that shares them.
    return list(
        pending.select_for_update(skip_locked=True)
        .annotate(episode_id=Subquery(episode.order_by("-id").values("id")[:1]))
        .order_by("pk")
        .values(*CLAIMED, "episode_id")
    )


def _claim_by_setting(pending, assignments: str, params: list) -> list[dict]:
    """Set the sweep's flags on what of these rows is still pending, and return them as _claim
    does, in one statement: UPDATE ... RETURNING. The update locks each row it changes; one
    held by a person's action or a concurrent sweep is waited for, and then asked again
    whether it is pending (PostgreSQL re-reads the row before it changes it), so it is done
    once. Its conditions are the queryset's own, compiled by Django: the rules (the overdue
    rule of escalations.clock) keep their one home."""
    query = pending.query
    compiler = query.get_compiler(connection=connection)
    where, where_params = compiler.compile(query.where)
    quote = connection.ops.quote_name
    table = quote(Escalation._meta.db_table)
    episodes = quote(StageEpisode._meta.db_table)
    fields = [Escalation._meta.get_field("id" if name == "pk" else name) for name in CLAIMED]
    returning = ", ".join(f"{table}.{quote(field.column)}" for field in fields)
    statement = (
        f"UPDATE {table} SET {assignments} WHERE {where} "  # noqa: S608 (names from the models, values as parameters)
        f"RETURNING {returning}, (SELECT episode.id FROM {episodes} episode "
        f"WHERE episode.escalation_id = {table}.id AND episode.ended_at IS NULL "
        "ORDER BY episode.id DESC LIMIT 1)"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, *where_params])
        found = cursor.fetchall()
    # Raw rows as the ORM would give them (SQLite returns moments as text).
    converters = []
    for field in fields:
        column = field.get_col(Escalation._meta.db_table)
        converters.append(
            (
                connection.ops.get_db_converters(column) + column.get_db_converters(connection),
                column,
            )
        )
    rows = []
    for values in found:
        row = {}
        for name, value, (convert, column) in zip(CLAIMED, values, converters, strict=False):
            for converter in convert:
                value = converter(value, column, connection)
            row[name] = value
        row["episode_id"] = values[-1]
        rows.append(row)
    return sorted(rows, key=lambda row: row["pk"])


def _overdue(now: datetime):
    return Escalation.objects.filter(state__in=LIVE_STATES, overdue=False).filter(
        past_due_condition(now)
    )


def _to_remind(now: datetime):
    # A reminder for a due moment already passed would only be noise: the overdue notice says it.
    return Escalation.objects.filter(
        state__in=LIVE_STATES, reminded=False, reminder_at__lte=now
    ).filter(not_past_due_condition(now))


def _approvals_without_a_lead(now: datetime):
    return Escalation.objects.filter(state=State.AWAITING_APPROVAL).filter(
        approvals.without_approvers()
    )


def _in_batches(pending, act, now, batch_size, stages, result, *, sets=None) -> None:
    """Act on what is pending, a batch at a time, each in its own transaction so the row locks
    are held only while the batch is written. With sets (SQL assignments and their values)
    each batch is claimed and flagged by _claim_by_setting, else locked by _claim."""
    # What is pending is read once, unlocked, and cut into ranges of ids; each batch then
    # claims what in its range is still pending. Claiming "the next pending rows after the
    # last one" instead walked the index of every due row, done ones included, once per
    # batch: at 1,000,000 escalations that was 40 walks.
    ids = list(pending.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        last = ids[min(start + batch_size, len(ids)) - 1]
        batch = pending.filter(pk__gte=ids[start], pk__lte=last)
        with transaction.atomic():
            rows = _claim_by_setting(batch, *sets) if sets else _claim(batch)
            if rows:
                act(rows, now, stages, result)


def _notice(escalation_id, episode_id, kind, person_id, due, now) -> dict:
    return {
        "escalation_id": escalation_id,
        "episode_id": episode_id,
        "kind": kind,
        "recipient_id": person_id,
        "key": notice_key(escalation_id, episode_id, kind, person_id, due),
        "created_at": now,
    }


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
    people = _People(rows)
    events, notices = [], []
    # Due moments are few (mostly the ends of working days): each is put in words once.
    in_words: dict[datetime, str] = {}
    for row in rows:
        stage = stages[row["stage_id"]]
        if row["due_at"] not in in_words:
            in_words[row["due_at"]] = moment_in_words(row["due_at"])
        esc_id, episode = row["pk"], row["episode_id"]
        events.append(
            {
                "escalation_id": esc_id,
                # Counted by the claim, which holds the row: nobody else can take it meanwhile.
                "sequence": row["event_count"],
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
    insert_rows(Event, events)
    insert_rows(Notice, notices, ignore_conflicts=True)
    result.overdue += len(rows)
    result.notices += len(notices)


def _remind(rows: list[dict], now: datetime, stages: dict, result: SweepResult) -> None:
    notices = [
        _notice(
            row["pk"],
            row["episode_id"],
            NoticeKind.REMINDER,
            row["holder_id"],
            row["due_at"],
            now,
        )
        for row in rows
        if row["holder_id"]
    ]
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
        episode = row["episode_id"]
        occasion = requests.get(esc_id, 0)
        notices += [
            _notice(esc_id, episode, kind, person_id, None, now)
            | {"key": f"{esc_id}:{episode or 0}:{kind}:{person_id}:{occasion}"}
            for person_id in told
        ]
    if asked:
        # One statement for the batch, however many agencies' stand-ins it names.
        Escalation.objects.filter(pk__in=[pk for ids in asked.values() for pk in ids]).update(
            approval_asked_as=Case(
                *[When(pk__in=ids, then=Value(role)) for (role, _), ids in asked.items()]
            ),
            approval_asked_of=Case(
                *[When(pk__in=ids, then=Value(words)) for (_, words), ids in asked.items()]
            ),
        )
    insert_rows(Notice, notices, ignore_conflicts=True)
