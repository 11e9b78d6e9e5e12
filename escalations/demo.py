"""Invented demo escalations in bulk, spread over partnerships, stages, states, natures and
dates. Left as if no deadline sweep had run: due moments may be past, nothing marked overdue."""

from __future__ import annotations

import contextlib
import io
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from cases.models import Child, Membership
from escalations.models import (
    Escalation,
    EscalationNature,
    Event,
    EventKind,
    Nature,
    Outcome,
    OutcomeCategory,
    Pathway,
    ReferenceSequence,
    StageEpisode,
    State,
)
from policies.calendar import local_zone
from policies.models import AGENCY_ROLES, Partnership

BATCH = 2000
# Read once: a TextChoices' .values is rebuilt on every access.
NATURES = Nature.values
PATHWAYS = Pathway.values
CHILD_GIVEN = [
    "Ava",
    "Ben",
    "Cora",
    "Dan",
    "Esme",
    "Finn",
    "Gia",
    "Hal",
    "Isla",
    "Jude",
    "Kai",
    "Lila",
    "Milo",
    "Nell",
    "Otto",
    "Pia",
    "Rae",
    "Seb",
    "Tia",
    "Vera",
]
CHILD_FAMILY = [
    "Amberley",
    "Birchall",
    "Cotterill",
    "Dawlish",
    "Ebdon",
    "Fairclough",
    "Gosling",
    "Hebblethwaite",
    "Ibbotson",
    "Jolliffe",
    "Kershaw",
    "Lockwood",
    "Mossop",
    "Nutter",
]
STREETS = ["Acacia Row", "Bramble Lane", "Copper Beech Close", "Dovecote Way", "Elm Terrace"]
STATE_WEIGHTS = [
    (State.OPEN, 46),
    (State.AWAITING_APPROVAL, 4),
    (State.RESOLVED, 18),
    (State.CLOSED, 26),
    (State.WITHDRAWN, 6),
]
OUTCOMES = [
    OutcomeCategory.UPHELD,
    OutcomeCategory.PARTLY_UPHELD,
    OutcomeCategory.NOT_UPHELD,
    OutcomeCategory.INFORMATION_SHARED,
]


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


class _Partnership:
    """What seeding needs of one partnership, read once."""

    def __init__(self, partnership: Partnership):
        self.partnership = partnership
        self.ladder = partnership.current_ladder
        stages = list(self.ladder.stages.all())
        self.stages = [s for s in stages if not s.after_resolution]
        self.calendar = partnership.calendar()
        self.agencies = list(partnership.agencies.order_by("id"))
        self.people = defaultdict(list)  # (agency id, role) -> [person id]
        self.partnership_people = defaultdict(list)
        for m in Membership.objects.filter(agency__in=self.agencies).order_by("id"):
            self.people[(m.agency_id, m.role)].append(m.person_id)
        for m in Membership.objects.filter(partnership=partnership).order_by("id"):
            self.partnership_people[m.role].append(m.person_id)

    def person(self, agency_id: int, roles: list[str]) -> int | None:
        for role in roles:
            if role in AGENCY_ROLES and self.people.get((agency_id, role)):
                return self.people[(agency_id, role)][0]
            if self.partnership_people.get(role):
                return self.partnership_people[role][0]
        for role in ("line_manager", "safeguarding_lead", "senior_manager", "practitioner"):
            if self.people.get((agency_id, role)):
                return self.people[(agency_id, role)][0]
        return None

    def due(self, start: datetime, stage) -> datetime | None:
        limit = stage.time_limit(self.partnership)
        if not limit:
            return None
        return self.calendar.due_moment(start, limit["value"], limit["unit"])


def seed_escalations(n: int, *, seed: int = 2026) -> int:
    """Top the demo data up to n escalations (existing ones count). Returns how many were made.

    The change-history triggers record real people's changes; invented bulk demo rows skip
    their insert snapshots, which would make seeding 100,000 escalations take many minutes."""
    with transaction.atomic(), _without_insert_history():
        return _seed_escalations(n, seed=seed)


@contextlib.contextmanager
def _without_insert_history():
    try:
        import pgtrigger
    except ImportError:
        yield
        return
    uris = [
        f"{model._meta.label}:{trigger.name}"
        for model, trigger in pgtrigger.registered()
        if trigger.name.startswith("insert")
    ]
    with pgtrigger.ignore(*uris):
        yield


def _seed_escalations(n: int, *, seed: int = 2026) -> int:
    """Top the demo data up to n escalations (existing ones count). Returns how many were made."""
    # scoped-lookup: allowed (seed_demo and bench top invented data up to n, from the console)
    existing = Escalation.objects.count()
    wanted = n - existing
    if wanted <= 0:
        return 0
    rng = random.Random(seed + existing)
    partnerships = [
        _Partnership(p) for p in Partnership.objects.order_by("slug") if p.current_ladder
    ]
    partnerships = [p for p in partnerships if len(p.agencies) >= 2 and p.people]
    if not partnerships:
        return 0
    now = timezone.now()
    zone = local_zone()
    today = timezone.localdate()
    sequences = {
        (row["partnership"], row["year"]): row["last"]
        for row in ReferenceSequence.objects.values("partnership", "year").annotate(
            last=Max("last_number")
        )
    }
    made = 0
    while made < wanted:
        size = min(BATCH, wanted - made)
        plans = [_plan(rng, rng.choice(partnerships), today, zone) for _ in range(size)]
        children = _insert(Child, [plan["child"] for plan in plans], with_ids=True)
        escalations = []
        for plan, child in zip(plans, children, strict=True):
            p = plan["p"]
            year = plan["raised_on"].astimezone(zone).year
            key = (p.partnership.pk, year)
            sequences[key] = sequences.get(key, 0) + 1
            plan["child"] = child
            escalations.append(
                _escalation(
                    plan, f"{p.partnership.reference_prefix}-{year}-{sequences[key]:05d}", now
                )
            )
        escalations = _insert(Escalation, escalations, with_ids=True)
        natures, episodes, events, outcomes = [], [], [], []
        for plan, esc in zip(plans, escalations, strict=True):
            natures += [{"escalation_id": esc.pk, "nature": nature} for nature in plan["natures"]]
            episodes += _episodes(plan, esc)
            events += _events(plan, esc)
            if plan["outcome"]:
                outcomes.append(
                    {
                        "escalation_id": esc.pk,
                        "recorded_by_id": esc.raised_by_id,
                        "recorded_at": now,
                        **plan["outcome"],
                    }
                )
        # The many small rows go in as plain values: building model instances for them took
        # more time than writing them.
        _insert_rows(EscalationNature, natures)
        _insert_rows(StageEpisode, episodes)
        _insert_rows(Event, events)
        _insert_rows(Outcome, outcomes)
        made += size
    for (partnership_id, year), last in sequences.items():
        ReferenceSequence.objects.update_or_create(
            partnership_id=partnership_id, year=year, defaults={"last_number": last}
        )
    return made


def _insert(model, objs: list, *, with_ids: bool = False) -> list:
    """bulk_create, but on PostgreSQL through COPY: most of a bulk_create's time goes on
    compiling the INSERT, and 100,000 demo escalations must load in under two minutes."""
    if connection.vendor != "postgresql" or not objs:
        return model.objects.bulk_create(objs)
    meta = model._meta
    fields = list(meta.concrete_fields)
    if with_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objs)],
            )
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
    else:
        fields = [f for f in fields if f is not meta.pk]
    buffer = io.StringIO()
    for obj in objs:
        buffer.write("\t".join(_copy_text(getattr(obj, f.attname)) for f in fields))
        buffer.write("\n")
    _copy(model, fields, buffer)
    for obj in objs:
        obj._state.adding = False
    return objs


def _insert_rows(model, rows: list[dict]) -> None:
    """Rows given as {attname: value}; fields left out take the model's defaults."""
    if connection.vendor != "postgresql" or not rows:
        model.objects.bulk_create([model(**row) for row in rows])
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_text(row.get(f.attname, defaults[f.attname])) for f in fields))
        buffer.write("\n")
    _copy(model, fields, buffer)


def _copy(model, fields, buffer: io.StringIO) -> None:
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _plan(rng: random.Random, p: _Partnership, today: date, zone) -> dict:
    raising, receiving = rng.sample(p.agencies, 2)
    state = _weighted(rng, STATE_WEIGHTS)
    last = len(p.stages)
    # Most disagreements end low on the ladder; some climb.
    stage_number = min(last, 1 + int(rng.expovariate(0.9)))
    if state == State.AWAITING_APPROVAL:
        candidates = [s.number for s in p.stages if s.approval_required]
        if not candidates:
            state = State.OPEN
        else:
            stage_number = max(1, candidates[0] - 1)
    live = state in (State.OPEN, State.AWAITING_APPROVAL)
    # Live ones started recently (some now past due); finished ones over the last two years.
    days_ago = rng.randint(0, 12) if live else rng.randint(15, 720)
    initial = today - timedelta(days=days_ago)
    raised_on = datetime.combine(initial, time(9, 0), tzinfo=zone) + timedelta(
        minutes=rng.randint(0, 480)
    )
    natures = rng.sample(NATURES, k=rng.choice([1, 1, 1, 2, 2, 3]))
    family = rng.random() < 0.1
    child = Child(
        given_names="" if family else rng.choice(CHILD_GIVEN),
        family_name=rng.choice(CHILD_FAMILY),
        is_family_group=family,
        date_of_birth=None if family else today - timedelta(days=rng.randint(200, 6000)),
        address=f"{rng.randint(1, 99)} {rng.choice(STREETS)}, Demo Town",
        home_partnership=p.partnership,
    )
    outcome = None
    if state in (State.RESOLVED, State.CLOSED):
        outcome = {
            "category": rng.choice(OUTCOMES),
            "summary": "Agreed after discussion (demo).",
            "raiser_satisfied": rng.random() < 0.8,
            "stage_number": stage_number,
        }
    elif state == State.WITHDRAWN:
        outcome = {
            "category": OutcomeCategory.WITHDRAWN,
            "summary": "Withdrawn by the raiser (demo).",
            "raiser_satisfied": None,
            "stage_number": stage_number,
        }
    return {
        "p": p,
        "raising": raising,
        "receiving": receiving,
        "state": state,
        "stage_number": stage_number,
        "initial": initial,
        "raised_on": raised_on,
        "natures": natures,
        "child": child,
        "outcome": outcome,
        "pathway": rng.choice(PATHWAYS),
        "immediate_risk": rng.random() < 0.04,
        "stage_days": [rng.randint(1, 9) for _ in range(stage_number)],
    }


def _stage_starts(plan: dict) -> list[datetime]:
    starts = [plan["raised_on"]]
    for days in plan["stage_days"][1:]:
        starts.append(starts[-1] + timedelta(days=days))
    now = timezone.now()
    return [min(start, now) for start in starts]


def _escalation(plan: dict, reference: str, now: datetime) -> Escalation:
    p = plan["p"]
    stage = p.stages[plan["stage_number"] - 1]
    state = plan["state"]
    raiser = p.person(plan["raising"].pk, ["practitioner"])
    live = state in (State.OPEN, State.AWAITING_APPROVAL)
    start = _stage_starts(plan)[-1]
    due = p.due(start, stage) if live else None
    finished = start + timedelta(days=plan["stage_days"][-1]) if not live else None
    return Escalation(
        reference=reference,
        partnership=p.partnership,
        ladder=p.ladder,
        child=plan["child"],
        raising_agency=plan["raising"],
        raised_by_id=raiser,
        receiving_agency=plan["receiving"],
        receiving_person_id=p.person(plan["receiving"].pk, ["practitioner"]),
        pathway=plan["pathway"],
        details="The agencies disagree about the plan for this child (invented demo text).",
        outcome_sought="A joint meeting and a reviewed plan (demo).",
        immediate_risk=plan["immediate_risk"],
        interim_safety="The allocated social worker visits weekly meanwhile (demo).",
        initial_discussion_on=plan["initial"],
        state=state,
        stage=stage,
        pending_stage=p.stages[stage.number] if state == State.AWAITING_APPROVAL else None,
        highest_stage_number=stage.number,
        holder_id=p.person(plan["raising"].pk, stage.acting_roles) if live else None,
        stage_started_at=start,
        due_at=due,
        reminder_at=due - timedelta(days=1) if due else None,
        overdue=False,
        partnership_sees_record=any(s.brings_in_partnership for s in p.stages[: stage.number]),
        raised_on=plan["raised_on"],
        resolved_on=finished if state in (State.RESOLVED, State.CLOSED) else None,
        closed_on=finished if state == State.CLOSED else None,
        withdrawn_on=finished if state == State.WITHDRAWN else None,
        created_on=plan["raised_on"],
        updated_on=min(now, finished or start),
        event_count=len(plan["stage_days"]) + (0 if live else 1),
        learning="Earlier joint discussion would have helped (demo)."
        if state == State.CLOSED
        else "",
        debrief_summary="Debrief held; relationships repaired (demo)."
        if state == State.CLOSED
        else "",
    )


def _episodes(plan: dict, esc: Escalation) -> list[dict]:
    p = plan["p"]
    starts = _stage_starts(plan)
    live = esc.state in (State.OPEN, State.AWAITING_APPROVAL)
    rows = []
    for i, start in enumerate(starts):
        stage = p.stages[i]
        last = i == len(starts) - 1
        end = (
            None
            if (last and live)
            else (starts[i + 1] if not last else start + timedelta(days=plan["stage_days"][i]))
        )
        rows.append(
            {
                "escalation_id": esc.pk,
                "stage_id": stage.pk,
                "number": stage.number,
                "raising_lead_id": p.person(plan["raising"].pk, stage.acting_roles),
                "counterpart_id": p.person(plan["receiving"].pk, stage.counterpart_roles),
                "started_at": start,
                "due_at": p.due(start, stage),
                "ended_at": end,
                "ended_by": "" if end is None else ("escalated" if not last else esc.state),
                "working_days_spent": None
                if end is None
                else p.calendar.working_days_between(
                    start.astimezone(local_zone()).date(), end.astimezone(local_zone()).date()
                ),
            }
        )
    return rows


def _events(plan: dict, esc: Escalation) -> list[dict]:
    starts = _stage_starts(plan)
    rows = [
        {
            "escalation_id": esc.pk,
            "sequence": 1,
            "kind": EventKind.RAISED,
            "actor_id": esc.raised_by_id,
            "from_state": State.DRAFT,
            "to_state": State.OPEN,
            "from_stage": 1,
            "to_stage": 1,
            "occurred_at": starts[0],
        }
    ]
    stages = plan["p"].stages
    for i, start in enumerate(starts[1:], start=2):
        # A stage that needs the safeguarding lead's approval is entered by an approval.
        approved = stages[i - 1].approval_required
        rows.append(
            {
                "escalation_id": esc.pk,
                "sequence": i,
                "kind": EventKind.APPROVED if approved else EventKind.ESCALATED,
                "actor_id": esc.raised_by_id,
                "from_state": State.AWAITING_APPROVAL if approved else State.OPEN,
                "to_state": State.OPEN,
                "from_stage": i - 1,
                "to_stage": i,
                "reason": "Not resolved at the previous stage (demo).",
                "occurred_at": start,
            }
        )
    if esc.state not in (State.OPEN, State.AWAITING_APPROVAL):
        kind = {State.WITHDRAWN: EventKind.WITHDRAWN, State.CLOSED: EventKind.CLOSED}.get(
            esc.state, EventKind.RESOLVED
        )
        rows.append(
            {
                "escalation_id": esc.pk,
                "sequence": len(rows) + 1,
                "kind": kind,
                "actor_id": esc.raised_by_id,
                "from_state": State.OPEN,
                "to_state": esc.state,
                "from_stage": esc.stage.number,
                "to_stage": esc.stage.number,
                "occurred_at": esc.resolved_on or esc.withdrawn_on or starts[-1],
            }
        )
    return rows
