"""The record as the Kirklees Appendix 5 form lays it out: a presenter that turns an escalation
into the form's fields, and the call that turns them into a PDF.

The template only places what the presenter gives it (dates in words, names with job titles),
with Django's autoescaping on every value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from cases.models import Membership, Person
from escalations.clock import moment_in_words
from escalations.models import (
    TRANSITION_KINDS,
    Escalation,
    Event,
    Nature,
    OutcomeCategory,
    Position,
    StageEpisode,
    State,
)
from escalations.record import engine
from policies.models import Stage

TITLE = "Professional Difference Escalation Record"
MARKING = "OFFICIAL-SENSITIVE"
NOT_RECORDED = "Not recorded"

# The form's seven boxes, in its order. The portal asks for two natures the form has no box
# for (roles and responsibilities; provision of services): they tick "Other" and are named
# in "please state", before any other nature the raiser wrote in.
FORM_BOXES = [
    (Nature.REFERRAL_DECISION, "Referral decision"),
    (Nature.ASSESSMENT, "Need for, or outcome of, an assessment"),
    (
        Nature.PLAN_IMPLEMENTATION,
        "Implementation of child's Plan (e.g. agreed actions not followed through)",
    ),
    (Nature.PLAN_EFFECTIVENESS, "Effectiveness of child's Plan (e.g. drift/delay)"),
    (Nature.INFORMATION_SHARING, "Information sharing"),
    (Nature.CONFERENCE_DECISION, "Child protection case conference decision"),
]
OTHER_BOX = "Other (please state)"
NATURES_UNDER_OTHER = [Nature.ROLES, Nature.SERVICES]


def with_record(queryset: QuerySet[Escalation]) -> QuerySet[Escalation]:
    """Everything the record shows, in a fixed number of queries whatever its length."""
    memberships = Prefetch(
        "memberships", queryset=Membership.objects.select_related("agency", "partnership")
    )
    people = Person.objects.prefetch_related(memberships)
    return queryset.select_related(
        "partnership",
        "ladder",
        "child",
        "stage",
        "raising_agency",
        "receiving_agency",
        "raised_by",
        "holder",
    ).prefetch_related(
        "natures",
        Prefetch("ladder__stages", queryset=Stage.objects.order_by("number")),
        Prefetch(
            "episodes",
            queryset=StageEpisode.objects.select_related("stage")
            .prefetch_related(
                Prefetch("raising_lead", queryset=people),
                Prefetch("counterpart", queryset=people),
            )
            .order_by("started_at", "id"),
        ),
        Prefetch(
            "events",
            queryset=Event.objects.filter(kind__in=TRANSITION_KINDS)
            .select_related("actor", "actor_agency")
            .order_by("sequence"),
            to_attr="transition_events",
        ),
        "responses__responder_agency",
        # Both sides' written positions, each with its author's job title in their agency.
        Prefetch(
            "positions",
            queryset=Position.objects.select_related("agency")
            .prefetch_related(Prefetch("author", queryset=people))
            .order_by("created_at", "id"),
        ),
        "outcomes",
        "actions__owner_agency",
    )


# --- the form's fields -----------------------------------------------------------------------


@dataclass(frozen=True)
class PersonLine:
    name: str
    job_title: str
    agency: str


@dataclass(frozen=True)
class Box:
    label: str
    ticked: bool


@dataclass(frozen=True)
class StageLine:
    label: str
    started: str
    ended: str
    by: PersonLine
    to: PersonLine


@dataclass(frozen=True)
class PositionLine:
    """One agency's written position: who wrote it, for which side, when, and its words."""

    by: PersonLine
    side: str
    date: str
    body: str


@dataclass(frozen=True)
class ResponseLine:
    by: PersonLine
    date: str
    summary: str


@dataclass(frozen=True)
class ActionLine:
    what: str
    by_whom: str
    completion: str
    done: str


@dataclass(frozen=True)
class EventLine:
    when: str
    what: str
    by: str
    reason: str


@dataclass(frozen=True)
class Comment:
    label: str
    text: str


@dataclass
class RecordForm:
    partnership: str
    title: str
    purpose: str
    reference: str
    produced: str
    produced_iso: str
    status: str
    child_name: str
    date_of_birth: str
    address: str
    agency_initiating: str
    agency_receiving: str
    initial_escalation: str
    stage_boxes: list[Box]
    stage: str
    nature_boxes: list[Box]
    other_stated: str
    details: str
    outcome_sought: str
    escalated_by: PersonLine
    escalated_to: PersonLine
    stages: list[StageLine] = field(default_factory=list)
    responses: list[ResponseLine] = field(default_factory=list)
    positions: list[PositionLine] = field(default_factory=list)
    outcome: str = ""
    outcome_summary: str = ""
    raiser_satisfied: str = ""
    actions: list[ActionLine] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    chronology: list[EventLine] = field(default_factory=list)
    marking: str = MARKING


def day(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else NOT_RECORDED


def moment(value: datetime | None) -> str:
    """The portal's one formatter, with the time zone: the record is read on paper."""
    return NOT_RECORDED if value is None else moment_in_words(value, zone=True)


def short_day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def short_moment(value: datetime) -> str:
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y}, {local:%H:%M}"


def person_line(person: Person | None, escalation: Escalation, *, agency=None) -> PersonLine:
    """Name, job title and agency as the person holds them in this escalation."""
    if person is None:
        return PersonLine(NOT_RECORDED, NOT_RECORDED, NOT_RECORDED)
    memberships = list(person.memberships.all())
    preferred = [agency] if agency else [escalation.raising_agency, escalation.receiving_agency]
    for where in preferred:
        membership = next((m for m in memberships if m.agency_id == where.pk), None)
        if membership:
            return PersonLine(person.full_name, membership.job_title, where.name)
    membership = next(
        (m for m in memberships if m.partnership_id == escalation.partnership_id), None
    ) or (memberships[0] if memberships else None)
    if membership is None:
        return PersonLine(person.full_name, NOT_RECORDED, NOT_RECORDED)
    where = membership.agency or membership.partnership
    return PersonLine(person.full_name, membership.job_title, where.name)


def belongs_to(person: Person | None, agency) -> bool:
    return person is not None and any(m.agency_id == agency.pk for m in person.memberships.all())


def stage_label(stage: Stage) -> str:
    return f"Stage {stage.number}: {stage.name}"


def status_in_words(escalation: Escalation) -> str:
    state = escalation.get_state_display()
    if escalation.state in (State.OPEN, State.AWAITING_APPROVAL):
        return f"{state} at stage {escalation.stage.number}"
    return state


def comments_for(escalation: Escalation) -> list[Comment]:
    comments = []
    if escalation.immediate_risk:
        comments.append(
            Comment("Immediate risk", "Raised with immediate risk of significant harm.")
        )
    comments.append(
        Comment("Keeping the child safe meanwhile", escalation.interim_safety or NOT_RECORDED)
    )
    if escalation.parents_informed is not None:
        told = (
            "Yes"
            if escalation.parents_informed
            else f"No. {escalation.parents_not_informed_reason}".strip()
        )
        comments.append(Comment("Parents or carers told of the escalation", told))
    comments.append(Comment("Learning identified", escalation.learning or "None recorded yet"))
    if escalation.policy_gap:
        comments.append(Comment("Gap in policy referred to the partnership", escalation.policy_gap))
    if escalation.debrief_summary:
        comments.append(
            Comment(
                f"Restorative debrief, {day(escalation.debrief_on)}", escalation.debrief_summary
            )
        )
    elif escalation.debrief_declined_reason:
        comments.append(Comment("Debrief not held", escalation.debrief_declined_reason))
    return comments


def record_form(escalation: Escalation, *, produced_at: datetime | None = None) -> RecordForm:
    """The form's fields for one escalation loaded through with_record()."""
    produced_at = produced_at or timezone.now()
    partnership = escalation.partnership
    ladder_stages = list(escalation.ladder.stages.all())
    record_stages = [s for s in ladder_stages if s.record_required]
    natures = {n.nature for n in escalation.natures.all()}
    other = [Nature(n).label for n in NATURES_UNDER_OTHER if n in natures]
    if Nature.OTHER in natures:
        other.append(escalation.nature_other or "Other")
    episodes = list(escalation.episodes.all())
    latest = episodes[-1] if episodes else None
    # "Escalated by": the last person of the escalating agency to take the matter up. At the
    # partnership's own stage the raising lead is the partnership (Kirklees stage 6), shown in
    # the stage history instead.
    by = next(
        (
            e.raising_lead
            for e in reversed(episodes)
            if belongs_to(e.raising_lead, escalation.raising_agency)
        ),
        latest.raising_lead if latest else escalation.raised_by,
    )
    to = latest.counterpart if latest else escalation.receiving_person
    outcomes = list(escalation.outcomes.all())
    outcome = outcomes[-1] if outcomes else None
    stage_numbers = ", ".join(str(s.number) for s in record_stages[:-1])
    purpose = (
        f"To be completed to enable notification to the {partnership.name} by the agency "
        "escalating the professional difference"
    )
    if record_stages:
        purpose += (
            f" at stages {stage_numbers} and {record_stages[-1].number} of the process."
            if stage_numbers
            else f" at stage {record_stages[-1].number} of the process."
        )
    else:
        purpose += "."
    return RecordForm(
        partnership=partnership.name,
        title=TITLE,
        purpose=purpose,
        reference=escalation.reference or f"Draft {escalation.pk}",
        produced=moment(produced_at),
        produced_iso=produced_at.isoformat(timespec="seconds"),
        status=status_in_words(escalation),
        child_name=escalation.child.display_name or NOT_RECORDED,
        date_of_birth=(
            "Unborn"
            if escalation.child.is_unborn and not escalation.child.date_of_birth
            else day(escalation.child.date_of_birth)
        ),
        address=escalation.child.address or NOT_RECORDED,
        agency_initiating=escalation.raising_agency.name,
        agency_receiving=escalation.receiving_agency.name,
        initial_escalation=day(escalation.initial_discussion_on),
        stage_boxes=[
            Box(f"Stage {s.number}", s.number == escalation.stage.number) for s in record_stages
        ],
        stage=stage_label(escalation.stage),
        nature_boxes=[Box(label, nature in natures) for nature, label in FORM_BOXES]
        + [Box(OTHER_BOX, bool(other))],
        other_stated="; ".join(other),
        details=escalation.details,
        outcome_sought=escalation.outcome_sought,
        escalated_by=person_line(by, escalation, agency=escalation.raising_agency),
        escalated_to=person_line(to, escalation, agency=escalation.receiving_agency),
        stages=[
            StageLine(
                label=stage_label(e.stage),
                started=short_day(timezone.localtime(e.started_at).date()),
                ended=short_day(timezone.localtime(e.ended_at).date()) if e.ended_at else "now",
                by=person_line(e.raising_lead, escalation),
                to=person_line(e.counterpart, escalation, agency=escalation.receiving_agency),
            )
            for e in episodes
        ],
        responses=[
            ResponseLine(
                by=PersonLine(
                    r.responder_name,
                    r.responder_job_title or NOT_RECORDED,
                    r.responder_agency.name,
                ),
                date=day(r.responded_on),
                summary=r.summary,
            )
            for r in escalation.responses.all()
        ],
        positions=[
            PositionLine(
                by=person_line(p.author, escalation, agency=p.agency),
                side=(
                    "Agency initiating escalation"
                    if p.agency_id == escalation.raising_agency_id
                    else "Agency receiving escalation"
                    if p.agency_id == escalation.receiving_agency_id
                    else p.agency.name
                ),
                date=day(timezone.localtime(p.created_at).date()),
                body=p.body,
            )
            for p in escalation.positions.all()
        ],
        outcome=OutcomeCategory(outcome.category).label if outcome else "",
        outcome_summary=outcome.summary if outcome else "",
        raiser_satisfied=(
            ""
            if outcome is None or outcome.raiser_satisfied is None
            else ("Yes" if outcome.raiser_satisfied else "No")
        ),
        actions=[
            ActionLine(
                what=a.what,
                by_whom=f"{a.owner_name}, {a.owner_agency.name}"
                if a.owner_agency
                else a.owner_name,
                completion=day(a.due_on),
                done=f"Done {day(a.done_on)}" if a.done_on else "Outstanding",
            )
            for a in escalation.actions.all()
        ],
        comments=comments_for(escalation),
        chronology=[
            EventLine(
                when=short_moment(e.occurred_at),
                what=e.get_kind_display(),
                by=(
                    f"{e.actor.full_name}, {e.actor_agency.name}"
                    if e.actor and e.actor_agency
                    else (e.actor.full_name if e.actor else "The portal")
                ),
                reason=e.reason,
            )
            for e in escalation.transition_events
        ],
    )


# --- the PDF ---------------------------------------------------------------------------------


def static_roots() -> list:
    """The only folders the renderer may read: the project's own static files."""
    return [*settings.STATICFILES_DIRS, settings.STATIC_ROOT]


def render_html(form: RecordForm) -> str:
    return render_to_string("record/record.html", {"form": form})


def render_form_pdf(form: RecordForm) -> engine.Rendered:
    return engine.html_to_pdf(
        render_html(form),
        static_roots=static_roots(),
        base_url=f"{settings.STATICFILES_DIRS[0].as_uri()}/",
        timeout=settings.RECORD_RENDER_SECONDS,
    )


def load_for_record(escalation: Escalation) -> Escalation:
    """The same escalation, reloaded with everything the record needs."""
    if hasattr(escalation, "transition_events"):
        return escalation
    # The caller already holds this escalation (a visible_to lookup or a due row).
    # scoped-lookup: allowed (reloads the caller's escalation by its own pk: nothing new)
    return with_record(Escalation.objects.filter(pk=escalation.pk)).get()


def render_record_pdf(escalation: Escalation, *, produced_at: datetime | None = None) -> bytes:
    """The record of an escalation the caller may see, as PDF bytes."""
    escalation = load_for_record(escalation)
    return render_form_pdf(record_form(escalation, produced_at=produced_at)).pdf
