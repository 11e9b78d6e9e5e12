"""What pages show, worked out before the template: due moments in words, rows, the ladder.

Templates stay dumb (STYLE.md 7); these are plain functions, tested on their own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.utils import timezone

from escalations import approvals, clock, moving
from escalations.clock import date_in_words, moment_in_words  # noqa: F401 (for callers)
from escalations.models import FINAL_STATES, Escalation, State
from policies.calendar import WorkingCalendar
from policies.models import ClosureDay, Stage, TimeUnit


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def due_in_words(due_at: datetime, *, now: datetime, calendar: WorkingCalendar) -> str:
    """'due today', 'due in 2 working days', 'overdue by 1 working day'."""
    today = timezone.localtime(now).date()
    due_day = timezone.localtime(due_at).date()
    if clock.past_due(due_at, now):
        days = calendar.working_days_between(due_day, today)
        return f"overdue by {_plural(days, 'working day')}" if days else "overdue"
    if due_day == today:
        return "due today"
    days = calendar.working_days_between(today, due_day)
    if days == 0:
        return f"due {due_day:%A}"
    return f"due in {_plural(days, 'working day')}"


def calendars_for(partnership_ids: Iterable[int]) -> dict[int, WorkingCalendar]:
    """One working calendar per partnership, closure days read in one query."""
    ids = set(partnership_ids)
    days: dict[int, set[date]] = {pk: set() for pk in ids}
    for partnership_id, day in ClosureDay.objects.filter(partnership_id__in=ids).values_list(
        "partnership_id", "date"
    ):
        days[partnership_id].add(day)
    return {pk: WorkingCalendar(frozenset(d)) for pk, d in days.items()}


@dataclass(frozen=True)
class Deadline:
    words: str
    when: str
    overdue: bool


def deadline(
    escalation: Escalation, *, now: datetime, calendar: WorkingCalendar
) -> Deadline | None:
    if escalation.due_at is None or escalation.state not in (State.OPEN, State.AWAITING_APPROVAL):
        return None
    words = due_in_words(escalation.due_at, now=now, calendar=calendar)
    return Deadline(
        words=words,
        when=moment_in_words(escalation.due_at),
        overdue=clock.is_overdue(escalation, now),
    )


@dataclass(frozen=True)
class Row:
    reference: str
    url: str
    child: str
    other_agency: str
    raising_agency: str
    stage: str
    state: str
    state_tag: str
    holder: str
    deadline: Deadline | None


STATE_TAGS = {
    State.DRAFT: "govuk-tag--grey",
    State.OPEN: "govuk-tag--blue",
    State.AWAITING_APPROVAL: "govuk-tag--yellow",
    State.RESOLVED: "govuk-tag--green",
    State.CLOSED: "govuk-tag--grey",
    State.WITHDRAWN: "govuk-tag--grey",
}


def rows(
    escalations: Iterable[Escalation],
    *,
    now: datetime | None = None,
    calendars: dict[int, WorkingCalendar] | None = None,
) -> list[Row]:
    """Table rows for lists of escalations (with_summary() loaded); calendars, where a page
    shows several lists, read once for all of them (calendars_for)."""
    escalations = list(escalations)
    now = now or timezone.now()
    if calendars is None:
        calendars = calendars_for(e.partnership_id for e in escalations)
    return [
        Row(
            reference=e.reference or "Draft",
            url=f"/escalations/{e.reference}/",
            child=e.child.display_name,
            other_agency=e.receiving_agency.name,
            raising_agency=e.raising_agency.name,
            stage=f"Stage {e.stage.number}: {e.stage.name}",
            state=e.get_state_display(),
            state_tag=STATE_TAGS.get(e.state, ""),
            holder=e.holder.full_name if e.holder else "",
            deadline=deadline(e, now=now, calendar=calendars[e.partnership_id]),
        )
        for e in escalations
    ]


def approval_in_words(stage: Stage) -> str:
    """'A safeguarding lead approves entry', from the stage's approval gate; '' where none."""
    gate = approvals.gate_for(stage)
    return f"{gate.approvers_in_words.capitalize()} approves entry" if gate else ""


@dataclass(frozen=True)
class LadderStep:
    number: int
    name: str
    who: str
    time_limit: str
    status: str  # done, current, to come, skipped
    approval_required: bool
    approval: str  # who approves entry, in words ("" where nobody need)
    brings_in_partnership: bool


def ladder_steps(
    escalation: Escalation, stages: Iterable[Stage], *, visited: set[int] | None = None
) -> list[LadderStep]:
    """The ladder as steps for this escalation: done, current, to come (and skipped, for
    stages below the one an immediate-risk challenge started at)."""
    current = escalation.stage.number
    finished = escalation.state in (State.RESOLVED, *FINAL_STATES)
    steps = []
    for stage in stages:
        if stage.after_resolution:
            status = (
                "done"
                if escalation.debrief_summary
                else ("current" if escalation.state == State.RESOLVED else "to come")
            )
        elif stage.number < current and visited is not None and stage.number not in visited:
            status = "skipped"
        elif stage.number < current or (stage.number == current and finished):
            status = "done"
        elif stage.number == current:
            status = "current"
        else:
            status = "to come"
        steps.append(
            LadderStep(
                number=stage.number,
                name=stage.name,
                who=stage.who,
                time_limit=stage.time_limit_in_words(escalation.partnership),
                status=status,
                approval_required=stage.approval_required,
                approval=approval_in_words(stage),
                brings_in_partnership=stage.brings_in_partnership,
            )
        )
    return steps


# --- what the policy says at a stage ---------------------------------------------------------


@dataclass(frozen=True)
class PolicyRule:
    """One rule of a stage as the page states it, with where it comes from: the policy's
    section and words, or the partnership's local practice and why."""

    label: str
    text: str
    section: str = ""
    quote: str = ""
    local: str = ""  # "This is <partnership>'s local practice." where it is one
    reason: str = ""


def _rule(label: str, text: str, basis: dict | None, partnership_name: str) -> PolicyRule:
    basis = basis or {}
    choice = basis.get("local_choice")
    if choice:
        return PolicyRule(
            label,
            text,
            local=f"This is {partnership_name}'s local practice.",
            reason=choice.get("reason", ""),
        )
    return PolicyRule(label, text, basis.get("policy_section", ""), basis.get("quote", ""))


def policy_at_stage(stage: Stage, partnership) -> list[PolicyRule]:
    """The stage's rules from the ladder file, each with its source (ladders/SCHEMA.md):
    guidance, who acts, who may move it here, the time limit and what its clock measures,
    approval, who is told and what is sent."""
    rules = stage.rules or {}
    name = partnership.name
    shown = []
    if stage.guidance:
        shown.append(_rule("What the policy says", stage.guidance, rules.get("guidance"), name))
    shown.append(_rule("Who acts", stage.who, rules.get("who"), name))
    if stage.moved_by:
        shown.append(
            _rule(
                "Who may move it to this stage",
                f"Only a {moving.moved_by_in_words(stage)} of the raising agency",
                rules.get("moved_by"),
                name,
            )
        )
    limit = stage.time_limit(partnership)
    if limit is not None:
        words = stage.time_limit_in_words(partnership)
        if stage.clock_measures:
            words = f"{words}: {stage.clock_measures}"
        shown.append(_rule("Time limit", words, rules.get("time_limit"), name))
    if stage.approval_required:
        gate = approvals.gate_for(stage)
        shown.append(
            _rule(
                "Approval",
                f"{gate.approvers_in_words.capitalize()} of the raising agency agrees before "
                "it moves to this stage",
                rules.get("approval"),
                name,
            )
        )
    if stage.brings_in_partnership:
        shown.append(
            _rule("Who is told", f"{name} is brought in at this stage", rules.get("told"), name)
        )
    if stage.record_required:
        shown.append(
            _rule(
                "What is sent",
                "The Professional Difference Escalation Record, to the partnership",
                rules.get("sent"),
                name,
            )
        )
    return shown


@dataclass(frozen=True)
class Party:
    """One person (or the people) who must act, in words: names, their agency, what to do."""

    names: str
    agency: str
    to_do: str


@dataclass(frozen=True)
class Standing:
    """Where the escalation stands, for the summary at the top of its page: who must act now,
    in which agency, what they must do and by when; who holds it for the raising agency."""

    status: str
    must_act: list[Party]
    holder: Party | None
    by_when: str
    step: str = ""


def limit_in_words(limit: dict | None) -> str:
    """'24 hours', '1 working day': a timed step's limit from the ladder file."""
    if not limit:
        return ""
    unit = TimeUnit(limit["unit"]).label
    return f"{limit['value']} {unit.rstrip('s') if limit['value'] == 1 else unit}"


def current_step(escalation: Escalation) -> str:
    """The timed step inside the stage that applies now, while the escalation is open at a
    stage that has steps ("Step 2 of 2: Contact between the relevant line managers / team
    managers, within 24 hours"): Berkshire's 24-hour step is seen while it runs."""
    steps = escalation.stage.steps or []
    if escalation.state not in (State.OPEN, State.AWAITING_APPROVAL) or not steps:
        return ""
    index = min(escalation.step, len(steps) - 1)
    step = steps[index]
    limit = limit_in_words(step.get("time_limit"))
    return f"Step {index + 1} of {len(steps)}: {step['name']}" + (
        f", within {limit}" if limit else ""
    )


def _people_in_words(people) -> str:
    names = [p.full_name for p in people if p is not None]
    if len(names) <= 1:
        return names[0] if names else ""
    return f"{', '.join(names[:-1])} or {names[-1]}"


def standing(
    escalation: Escalation,
    **kwargs,
) -> Standing:
    """Standing with the timed step that applies now (current_step)."""
    return replace(_standing(escalation, **kwargs), step=current_step(escalation))


def _standing(
    escalation: Escalation,
    *,
    counterpart=None,
    approvers=None,
    deadline: Deadline | None = None,
) -> Standing:
    """What is true now, said once: an escalation waiting for approval has not moved yet, and
    says who must approve; an open one says who must answer for the challenged agency and who
    holds it for the challenging one; a finished one says that nobody need act."""
    by_when = f"{deadline.words.capitalize()} (by {deadline.when})" if deadline else ""
    stage = f"stage {escalation.stage.number}: {escalation.stage.name}"
    holder = (
        Party(escalation.holder.full_name, escalation.raising_agency.name, "")
        if escalation.holder
        else None
    )
    if escalation.state == State.AWAITING_APPROVAL and escalation.pending_stage:
        pending = escalation.pending_stage
        gate = approvals.gate_for(pending) or approvals.LEAD_GATE
        return Standing(
            status=f"Waiting for approval to move from {stage} to stage {pending.number}: "
            f"{pending.name}. It has not moved yet.",
            must_act=[
                Party(
                    _people_in_words(approvers or []) or gate.approvers_in_words.capitalize(),
                    escalation.raising_agency.name,
                    f"Approve or return the request to move to stage {pending.number}",
                )
            ],
            holder=holder,
            by_when=by_when,
        )
    if escalation.state == State.OPEN:
        responder = counterpart or escalation.receiving_person
        must_act = [
            Party(
                responder.full_name if responder else "Nobody named yet",
                escalation.receiving_agency.name,
                "Respond to the challenge",
            )
        ]
        if holder:
            must_act.append(
                Party(
                    holder.names,
                    holder.agency,
                    "Resolve it, or escalate it if there is no agreement",
                )
            )
        return Standing(f"Open at {stage}", must_act, holder, by_when)
    if escalation.state == State.RESOLVED:
        return Standing(
            f"Resolved at {stage}",
            [
                Party(
                    holder.names,
                    holder.agency,
                    "Record the learning and the debrief, then close it",
                )
            ]
            if holder
            else [],
            holder,
            "",
        )
    return Standing(
        f"{escalation.get_state_display()} at {stage}. Nobody needs to act.", [], None, ""
    )
