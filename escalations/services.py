"""What people do to an escalation, one function each.

Every change runs in one transaction with the escalation row locked: check the person may act,
call the transition, move the stage and clock, write the event and the outbox notices. Two
people acting at once: the second waits for the lock, then finds the escalation changed
(revision) and is told so; nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from cases.models import Agency, Child, Membership, Person
from escalations.models import (
    Action,
    Approval,
    Escalation,
    EscalationNature,
    Event,
    EventKind,
    Nature,
    Note,
    NoteKind,
    Notice,
    NoticeKind,
    Outcome,
    OutcomeCategory,
    Participant,
    Pathway,
    Position,
    ReferenceSequence,
    Response,
    StageEpisode,
    State,
)
from escalations.permissions import Act, allowed_actions
from escalations.record.due import request_record_copy
from policies.calendar import WorkingCalendar, start_of_day
from policies.models import (
    AGENCY_ROLES,
    APPROVAL_FALLBACK_ROLES,
    PARTNERSHIP_ROLES,
    Partnership,
    Role,
    Stage,
)


class ActionRefused(Exception):
    """The action cannot be taken; the message says why, in words for the person."""


class StaleEscalation(ActionRefused):
    pass


# --- helpers ---------------------------------------------------------------------------------


def _require_text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ActionRefused(f"Enter {what}.")
    return value


def _not_future(day: date, what: str) -> date:
    if day > timezone.localdate():
        raise ActionRefused(f"{what} must be today or in the past.")
    return day


def _agency_of(person: Person, *agencies: Agency) -> Agency | None:
    ids = {m.agency_id for m in person.memberships.all() if m.agency_id}
    return next((agency for agency in agencies if agency.pk in ids), None)


def _next_reference(partnership: Partnership, year: int) -> str:
    sequence, _ = ReferenceSequence.objects.select_for_update().get_or_create(
        partnership=partnership, year=year
    )
    sequence.last_number = F("last_number") + 1
    sequence.save(update_fields=["last_number"])
    sequence.refresh_from_db(fields=["last_number"])
    return f"{partnership.reference_prefix}-{year}-{sequence.last_number:05d}"


def record_event(
    escalation: Escalation,
    kind: str,
    by: Person | None,
    *,
    from_state: str = "",
    from_stage: int | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> Event:
    """Append one event; the caller holds the escalation's row lock."""
    escalation.event_count += 1
    agency = _agency_of(by, escalation.raising_agency, escalation.receiving_agency) if by else None
    return Event.objects.create(
        escalation=escalation,
        sequence=escalation.event_count,
        kind=kind,
        actor=by,
        actor_agency=agency,
        from_state=from_state or escalation.state,
        to_state=escalation.state,
        from_stage=from_stage if from_stage is not None else escalation.stage.number,
        to_stage=escalation.stage.number,
        reason=reason,
        occurred_at=at or timezone.now(),
    )


def notify(
    escalation: Escalation,
    kind: str,
    recipients: Iterable[Person | None],
    *,
    episode: StageEpisode | None = None,
    occasion: str = "",
    urgent: bool = False,
) -> int:
    """Write outbox rows; the unique key makes a repeat a no-op."""
    people = {person.pk: person for person in recipients if person is not None}
    rows = [
        Notice(
            escalation=escalation,
            episode=episode,
            kind=kind,
            recipient=person,
            urgent=urgent,
            key=f"{escalation.pk}:{episode.pk if episode else 0}:{kind}:{person.pk}:{occasion}",
        )
        for person in people.values()
    ]
    Notice.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def members(agency: Agency | None, roles: Iterable[str]) -> list[Person]:
    if agency is None:
        return []
    order = {role: i for i, role in enumerate(roles)}
    memberships = (
        Membership.objects.filter(agency=agency, role__in=list(order), person__user__is_active=True)
        .select_related("person")
        .order_by("id")
    )
    return [m.person for m in sorted(memberships, key=lambda m: order[m.role])]


def partnership_members(partnership: Partnership, roles: Iterable[str]) -> list[Person]:
    order = {role: i for i, role in enumerate(roles)}
    memberships = (
        Membership.objects.filter(
            partnership=partnership, role__in=list(order), person__user__is_active=True
        )
        .select_related("person")
        .order_by("id")
    )
    return [m.person for m in sorted(memberships, key=lambda m: order[m.role])]


# Who stands in where an agency has nobody in the role a stage names (small VCF settings).
FALLBACK_ROLES = [Role.LINE_MANAGER, Role.SAFEGUARDING_LEAD, Role.SENIOR_MANAGER, Role.PRACTITIONER]


def acting_person(escalation: Escalation, stage: Stage) -> Person:
    """Who acts for the raising agency at a stage: the raiser where their role fits, else the
    agency's first person in the stage's role, else the partnership's, else a stand-in."""
    roles = list(stage.acting_roles)
    raiser = escalation.raised_by
    raiser_roles = {
        m.role for m in raiser.memberships.all() if m.agency_id == escalation.raising_agency_id
    }
    if raiser_roles & set(roles):
        return raiser
    agency_roles = [r for r in roles if r in AGENCY_ROLES]
    candidates = members(escalation.raising_agency, agency_roles)
    if not candidates:
        candidates = partnership_members(
            escalation.partnership, [r for r in roles if r in PARTNERSHIP_ROLES]
        )
    if not candidates:
        candidates = members(escalation.raising_agency, FALLBACK_ROLES)
    return candidates[0] if candidates else raiser


def counterpart_person(escalation: Escalation, stage: Stage) -> Person | None:
    roles = [r for r in stage.counterpart_roles if r in AGENCY_ROLES]
    if Role.PRACTITIONER in roles and escalation.receiving_person_id:
        return escalation.receiving_person
    candidates = members(escalation.receiving_agency, roles) or members(
        escalation.receiving_agency, FALLBACK_ROLES
    )
    return candidates[0] if candidates else escalation.receiving_person


def _calendar(escalation: Escalation) -> WorkingCalendar:
    return escalation.partnership.calendar()


def set_clock(
    escalation: Escalation, start: datetime, calendar: WorkingCalendar | None = None
) -> None:
    """Due and reminder moments for the current stage (or timed step) from start."""
    stage = escalation.stage
    steps = stage.steps or []
    limit = None
    if steps and escalation.step < len(steps):
        limit = steps[escalation.step]["time_limit"]
        if limit.get("source") == "local-default":
            limit = stage.time_limit(escalation.partnership)
        elif limit.get("value") is None:
            limit = None
    else:
        limit = stage.time_limit(escalation.partnership)
    escalation.stage_started_at = escalation.stage_started_at or start
    escalation.overdue = False
    escalation.reminded = False
    if not limit:
        escalation.due_at = escalation.reminder_at = None
        return
    calendar = calendar or _calendar(escalation)
    escalation.due_at = calendar.due_moment(start, limit["value"], limit["unit"])
    escalation.reminder_at = calendar.reminder_moment(
        start, escalation.due_at, limit["unit"], escalation.partnership.reminder_working_days
    )


def _end_episode(escalation: Escalation, ended_by: str, now: datetime) -> StageEpisode | None:
    episode = escalation.episodes.filter(ended_at__isnull=True).order_by("-id").first()
    if episode is None:
        return None
    zone_today = timezone.localtime(now).date()
    episode.ended_at = now
    episode.ended_by = ended_by
    episode.was_overdue = escalation.overdue
    episode.working_days_spent = _calendar(escalation).working_days_between(
        timezone.localtime(episode.started_at).date(), zone_today
    )
    episode.save(update_fields=["ended_at", "ended_by", "was_overdue", "working_days_spent"])
    return episode


def current_episode(escalation: Escalation) -> StageEpisode | None:
    return escalation.episodes.filter(ended_at__isnull=True).order_by("-id").first()


def _enter_stage(
    escalation: Escalation,
    stage: Stage,
    now: datetime,
    *,
    clock_start: datetime | None = None,
    holder: Person | None = None,
) -> StageEpisode:
    escalation.stage = stage
    escalation.step = 0
    escalation.pending_stage = None
    escalation.highest_stage_number = max(escalation.highest_stage_number, stage.number)
    escalation.holder = holder or acting_person(escalation, stage)
    escalation.stage_started_at = clock_start or now
    set_clock(escalation, clock_start or now)
    if stage.brings_in_partnership:
        escalation.partnership_sees_record = True
    episode = StageEpisode.objects.create(
        escalation=escalation,
        stage=stage,
        number=stage.number,
        raising_lead=escalation.holder,
        counterpart=counterpart_person(escalation, stage),
        started_at=clock_start or now,
        due_at=escalation.due_at,
    )
    if stage.record_required:
        # Marked due in this transaction; the freeze sweep renders it after commit.
        request_record_copy(escalation, episode)
    return episode


def _announce_stage(
    escalation: Escalation, episode: StageEpisode, kind: str, occasion: str
) -> None:
    notify(
        escalation,
        kind,
        [escalation.holder, episode.counterpart],
        episode=episode,
        occasion=occasion,
    )
    if escalation.stage.brings_in_partnership:
        notify(
            escalation,
            NoticeKind.PARTNERSHIP_STAGE,
            partnership_members(escalation.partnership, [Role.BUSINESS_MANAGER]),
            episode=episode,
        )


@contextmanager
def acting_on(
    escalation: Escalation | int, by: Person, act: Act, *, expected_revision: int | None = None
) -> Iterator[Escalation]:
    """Lock the row, check the person may act, and save and bump the revision afterwards."""
    pk = escalation.pk if isinstance(escalation, Escalation) else escalation
    with transaction.atomic():
        # Lock the row alone, then read it with its relations. On PostgreSQL a FOR UPDATE over
        # joins that waited for another transaction rechecks the join against the old related
        # rows: once the winner has moved the stage, the loser's query finds no row at all.
        Escalation.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).get()
        locked = Escalation.objects.select_related(
            "partnership", "ladder", "stage", "raising_agency", "receiving_agency", "raised_by"
        ).get(pk=pk)
        if expected_revision is not None and locked.revision != expected_revision:
            raise StaleEscalation(
                f"{locked.reference or 'This escalation'} was changed by someone else while you were "
                f"working on it: it is now {locked.get_state_display().lower()} at stage "
                f"{locked.stage.number}. Nothing was saved; check the page and try again."
            )
        allowed = allowed_actions(by, locked)
        if act not in allowed:
            raise ActionRefused(_refusal(locked, act, allowed))
        try:
            yield locked
        except TransitionNotAllowed as exc:
            # Permissions are checked per state first, so this means the two disagree: still
            # refuse in words rather than fail with the state machine's own error.
            raise ActionRefused(_refusal(locked, act, frozenset())) from exc
        locked.revision += 1
        locked.updated_on = timezone.now()
        locked.save()


def _refusal(escalation: Escalation, act: Act, allowed: frozenset[Act]) -> str:
    state = escalation.get_state_display().lower()
    # Someone who may move it on but not this way: say why, not just "not yours to do".
    if Act.RESOLVE in allowed and act == Act.ESCALATE:
        return "This escalation is at the last stage of the ladder; it can only be resolved."
    if Act.RESOLVE in allowed and act == Act.ADVANCE_STEP:
        return "This stage has no further timed step; escalate or resolve it instead."
    return f"You cannot {act.value.replace('_', ' ')} this escalation: it is {state}, or that is not yours to do."


# --- raising ----------------------------------------------------------------------------------


@dataclass
class ChildDetails:
    home_partnership: Partnership
    given_names: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    address: str = ""
    is_family_group: bool = False
    is_unborn: bool = False


def raise_escalation(
    *,
    by: Person,
    child: Child | ChildDetails,
    raising_agency: Agency,
    receiving_agency: Agency,
    pathway: str,
    natures: Iterable[str],
    details: str,
    outcome_sought: str,
    interim_safety: str,
    initial_discussion_on: date,
    receiving_person: Person | None = None,
    receiving_team: str = "",
    nature_other: str = "",
    immediate_risk: bool = False,
    start_stage_number: int = 1,
    submit: bool = True,
) -> Escalation:
    """Raise a challenge on the child's partnership's current ladder (or keep it as a draft)."""
    natures = sorted(set(natures))
    if not natures:
        raise ActionRefused("Select at least one nature of the professional difference.")
    unknown = set(natures) - set(Nature.values)
    if unknown:
        raise ActionRefused(f"Unknown nature of difference: {', '.join(sorted(unknown))}.")
    if Nature.OTHER in natures and not nature_other.strip():
        raise ActionRefused("Say what the other nature of the difference is.")
    if pathway not in Pathway.values:
        raise ActionRefused("Select the pathway.")
    if raising_agency.pk not in {m.agency_id for m in by.memberships.all()}:
        raise ActionRefused("You can only raise a challenge for an agency you belong to.")
    if raising_agency.pk == receiving_agency.pk:
        raise ActionRefused("The other agency must be a different agency from your own.")
    _not_future(initial_discussion_on, "The date of the initial discussion")
    details = _require_text(details, "the details of the difference")
    outcome_sought = _require_text(outcome_sought, "the outcome you are seeking")
    interim_safety = _require_text(
        interim_safety, "who is keeping the child safe meanwhile, and how"
    )
    partnership = child.home_partnership
    ladder = partnership.current_ladder
    if ladder is None:
        raise ActionRefused(f"{partnership.name} has no ladder loaded yet.")
    stages = {stage.number: stage for stage in ladder.escalation_stages()}
    if start_stage_number != 1 and not (immediate_risk and partnership.start_at_any_stage):
        raise ActionRefused(
            "Only a challenge with immediate risk of significant harm may start past stage 1."
        )
    if start_stage_number not in stages:
        raise ActionRefused(
            f"Stage {start_stage_number} is not an escalation stage of this ladder."
        )
    now = timezone.now()
    with transaction.atomic():
        if isinstance(child, ChildDetails):
            child = Child.objects.create(**child.__dict__)
        escalation = Escalation(
            partnership=partnership,
            ladder=ladder,
            child=child,
            raising_agency=raising_agency,
            raised_by=by,
            receiving_agency=receiving_agency,
            receiving_person=receiving_person,
            receiving_team=receiving_team.strip(),
            pathway=pathway,
            nature_other=nature_other.strip() if Nature.OTHER in natures else "",
            details=details,
            outcome_sought=outcome_sought,
            immediate_risk=immediate_risk,
            interim_safety=interim_safety,
            initial_discussion_on=initial_discussion_on,
            stage=stages[start_stage_number],
            highest_stage_number=start_stage_number,
            created_on=now,
            updated_on=now,
        )
        escalation.save()
        EscalationNature.objects.bulk_create(
            EscalationNature(escalation=escalation, nature=nature) for nature in natures
        )
        record_event(escalation, EventKind.DRAFTED, by, from_state=State.DRAFT, at=now)
        escalation.save()
    if submit:
        escalation = submit_escalation(escalation, by=by)
    return escalation


def submit_escalation(escalation: Escalation, *, by: Person) -> Escalation:
    """Draft -> open: numbered, clock started from the initial discussion, people told."""
    with acting_on(escalation, by, Act.SUBMIT) as esc:
        now = timezone.now()
        esc.reference = _next_reference(esc.partnership, timezone.localtime(now).year)
        esc.raised_on = now
        esc.submit()
        start = start_of_day(esc.initial_discussion_on)
        episode = _enter_stage(esc, esc.stage, now, clock_start=start)
        record_event(
            esc,
            EventKind.RAISED,
            by,
            from_state=State.DRAFT,
            reason=(
                f"Raised at stage {esc.stage.number} because of immediate risk of significant harm"
                if esc.immediate_risk
                else ""
            ),
        )
        _announce_stage(esc, episode, NoticeKind.RAISED, occasion=str(esc.event_count))
        if esc.immediate_risk:
            notify(
                esc,
                NoticeKind.IMMEDIATE_RISK,
                members(esc.raising_agency, [Role.SAFEGUARDING_LEAD])
                or members(esc.raising_agency, FALLBACK_ROLES),
                episode=episode,
                urgent=True,
            )
    _after_commit_relay()
    return esc


def _after_commit_relay() -> None:
    """Ask the relay to send urgent notices once this transaction has committed; if the broker
    is down the next sweep sends them (the outbox row is already safe)."""
    try:
        from escalations import notifications
    except ImportError:
        return
    kick = getattr(notifications, "relay_urgent_after_commit", None)
    if kick is not None:
        kick()


# --- moving up the ladder -------------------------------------------------------------------


def next_stage(escalation: Escalation) -> Stage | None:
    return (
        escalation.ladder.stages.filter(number__gt=escalation.stage.number, after_resolution=False)
        .order_by("number")
        .first()
    )


# How an approval event says the decision was asked of, or taken by, a stand-in for the lead.
IN_LEADS_ABSENCE = "in the absence of a safeguarding lead"


@dataclass(frozen=True)
class Approvers:
    """Who is asked to approve entry to a stage, and in which role."""

    people: list[Person]
    role: str = Role.SAFEGUARDING_LEAD

    @property
    def stand_in(self) -> bool:
        return self.role != Role.SAFEGUARDING_LEAD

    def in_words(self) -> str:
        """'its senior manager, Dan Dale' or 'its line managers, Bob Baker and Kay Kerr'."""
        names = [p.full_name for p in self.people]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        label = {
            Role.SAFEGUARDING_LEAD: "safeguarding lead",
            Role.SENIOR_MANAGER: "senior manager",
            Role.LINE_MANAGER: "line manager",
        }.get(self.role, "manager")
        return f"its {label}{'s' if len(names) > 1 else ''}, {listed}"


def approvers(escalation: Escalation, asked_by: Person | None) -> Approvers:
    """Who approves entry to a stage that needs it: the raising agency's active safeguarding
    leads; where it has none, its senior managers, else its line managers
    (policies.models.APPROVAL_FALLBACK_ROLES), never whoever asks. Nobody where it has none of
    those either. One query; the same rule as permissions.approves_in_leads_absence."""
    roles = [Role.SAFEGUARDING_LEAD, *APPROVAL_FALLBACK_ROLES]
    by_role: dict[str, dict[int, Person]] = {role: {} for role in roles}
    for m in (
        Membership.objects.filter(
            agency_id=escalation.raising_agency_id, role__in=roles, person__user__is_active=True
        )
        .select_related("person")
        .order_by("id")
    ):
        by_role[m.role].setdefault(m.person_id, m.person)
    if by_role[Role.SAFEGUARDING_LEAD]:
        return Approvers(list(by_role[Role.SAFEGUARDING_LEAD].values()))
    asked_id = asked_by.pk if asked_by else None
    for role in APPROVAL_FALLBACK_ROLES:
        people = [person for pk, person in by_role[role].items() if pk != asked_id]
        if people:
            return Approvers(people, role)
    return Approvers([], "")


def nobody_to_approve(escalation: Escalation, target: Stage, asked_by: Person | None) -> str:
    """Why an escalation cannot go to a stage that needs approval, and whom to contact."""
    agency = escalation.raising_agency
    partnership = escalation.partnership
    yours = asked_by is not None and bool(
        asked_by.agency_ids(set(APPROVAL_FALLBACK_ROLES)) & {agency.pk}
    )
    managers = partnership_members(partnership, [Role.BUSINESS_MANAGER])
    contact = (
        f"{' or '.join(p.full_name for p in managers)}, the business manager of {partnership.name}"
        if managers
        else f"the business manager of {partnership.name}"
    )
    return (
        f"Stage {target.number} ({target.name}) needs the approval of a safeguarding lead of "
        f"{agency.name}, and {agency.name} has no active safeguarding lead, senior manager or "
        f"line manager in the portal{' other than you' if yours else ''} who could approve it "
        f"instead. Nothing was changed: the escalation stays at stage {escalation.stage.number}. "
        f"Contact {contact}, to have a safeguarding lead or manager of {agency.name} added to "
        "the portal, then escalate again."
    )


def escalate(
    escalation: Escalation | int,
    *,
    by: Person,
    reason: str,
    to: Person | None = None,
    expected_revision: int | None = None,
) -> Escalation:
    """Move to the next stage, or ask the raising agency's safeguarding lead first where the
    ladder says so."""
    reason = _require_text(reason, "why you are escalating")
    with acting_on(escalation, by, Act.ESCALATE, expected_revision=expected_revision) as esc:
        target = next_stage(esc)
        if target is None:
            raise ActionRefused(
                "This escalation is at the last stage of the ladder; it can only be resolved."
            )
        now = timezone.now()
        from_stage = esc.stage.number
        if target.approval_required:
            asked = approvers(esc, by)
            if not asked.people:
                # Raised before anything is changed; the transaction leaves nothing behind.
                raise ActionRefused(nobody_to_approve(esc, target, by))
            esc.request_approval()
            esc.pending_stage = target
            esc.approval_requested_by = by
            if asked.stand_in:
                reason = (
                    f"{reason}\n\n{esc.raising_agency.name} has no active safeguarding lead: "
                    f"approval asked {IN_LEADS_ABSENCE} of {asked.in_words()}."
                )
            record_event(
                esc, EventKind.APPROVAL_REQUESTED, by, from_state=State.OPEN, reason=reason
            )
            notify(
                esc,
                NoticeKind.APPROVAL_NEEDED_NO_LEAD
                if asked.stand_in
                else NoticeKind.APPROVAL_NEEDED,
                asked.people,
                episode=current_episode(esc),
                occasion=str(esc.event_count),
            )
            return esc
        if to is not None and not _may_hold(esc, to):
            raise ActionRefused(
                f"{to.full_name} cannot take this escalation at stage {target.number}."
            )
        esc.escalate()
        _end_episode(esc, "escalated", now)
        episode = _enter_stage(esc, target, now, holder=to)
        record_event(
            esc,
            EventKind.ESCALATED,
            by,
            from_state=State.OPEN,
            from_stage=from_stage,
            reason=reason,
        )
        _announce_stage(esc, episode, NoticeKind.ESCALATED, occasion=str(esc.event_count))
    return esc


def _may_hold(escalation: Escalation, person: Person) -> bool:
    return any(
        m.agency_id == escalation.raising_agency_id or m.partnership_id == escalation.partnership_id
        for m in person.memberships.all()
    )


def approve(
    escalation: Escalation | int,
    *,
    by: Person,
    comments: str = "",
    expected_revision: int | None = None,
) -> Escalation:
    with acting_on(escalation, by, Act.APPROVE, expected_revision=expected_revision) as esc:
        now = timezone.now()
        target = esc.pending_stage
        from_stage = esc.stage.number
        Approval.objects.create(
            escalation=esc,
            stage=target,
            decided_by=by,
            decision=Approval.Decision.APPROVED,
            comments=comments.strip(),
            decided_at=now,
        )
        esc.approve()
        _end_episode(esc, "escalated", now)
        episode = _enter_stage(esc, target, now)
        record_event(
            esc,
            EventKind.APPROVED,
            by,
            from_state=State.AWAITING_APPROVAL,
            from_stage=from_stage,
            reason=_with_stand_in(comments.strip(), esc, by, "Approved"),
        )
        _announce_stage(esc, episode, NoticeKind.ESCALATED, occasion=str(esc.event_count))
        notify(
            esc,
            NoticeKind.APPROVED,
            [esc.approval_requested_by],
            episode=episode,
            occasion=str(esc.event_count),
        )
    return esc


def return_with_comments(
    escalation: Escalation | int, *, by: Person, comments: str, expected_revision: int | None = None
) -> Escalation:
    comments = _require_text(comments, "your comments for the person who asked")
    with acting_on(
        escalation, by, Act.RETURN_WITH_COMMENTS, expected_revision=expected_revision
    ) as esc:
        Approval.objects.create(
            escalation=esc,
            stage=esc.pending_stage,
            decided_by=by,
            decision=Approval.Decision.RETURNED,
            comments=comments,
        )
        esc.return_with_comments()
        esc.pending_stage = None
        record_event(
            esc,
            EventKind.RETURNED,
            by,
            from_state=State.AWAITING_APPROVAL,
            reason=_with_stand_in(comments, esc, by, "Returned"),
        )
        notify(
            esc,
            NoticeKind.RETURNED,
            [esc.approval_requested_by, esc.holder],
            episode=current_episode(esc),
            occasion=str(esc.event_count),
        )
    return esc


def _with_stand_in(text: str, escalation: Escalation, by: Person, decided: str) -> str:
    """The decision's comments, saying so where a manager decided in place of the lead (they
    may only while the raising agency has no active lead: permissions)."""
    agency_id = escalation.raising_agency_id
    if by.has_role(Role.SAFEGUARDING_LEAD, agency_id=agency_id):
        return text
    role = (
        "senior manager"
        if by.has_role(Role.SENIOR_MANAGER, agency_id=agency_id)
        else "line manager"
    )
    note = (
        f"{decided} by {by.full_name}, {role} of {escalation.raising_agency.name}, "
        f"{IN_LEADS_ABSENCE}."
    )
    return f"{text}\n\n{note}" if text else note


def advance_step(
    escalation: Escalation | int, *, by: Person, note: str, expected_revision: int | None = None
) -> Escalation:
    """Move to the stage's next timed step (Berkshire stage 1: report to the line manager)."""
    note = _require_text(note, "what happened at this step")
    with acting_on(escalation, by, Act.ADVANCE_STEP, expected_revision=expected_revision) as esc:
        now = timezone.now()
        esc.advance_step()
        esc.step += 1
        set_clock(esc, now)
        episode = current_episode(esc)
        if episode:
            episode.due_at = esc.due_at
            episode.save(update_fields=["due_at"])
        step_name = esc.stage.steps[esc.step]["name"]
        record_event(
            esc, EventKind.STEP_ADVANCED, by, from_state=State.OPEN, reason=f"{step_name}. {note}"
        )
    return esc


# --- resolution -------------------------------------------------------------------------------


@dataclass
class ActionItem:
    what: str
    owner_name: str
    due_on: date
    owner: Person | None = None
    owner_agency: Agency | None = None


def resolve(
    escalation: Escalation | int,
    *,
    by: Person,
    category: str,
    summary: str,
    raiser_satisfied: bool,
    actions: Iterable[ActionItem] = (),
    expected_revision: int | None = None,
) -> Escalation:
    if category not in OutcomeCategory.values or category == OutcomeCategory.WITHDRAWN:
        raise ActionRefused(
            "Select the outcome: upheld, partly upheld, not upheld or resolved by sharing information."
        )
    summary = _require_text(summary, "the agreed outcome in writing")
    actions = list(actions)
    for i, item in enumerate(actions, start=1):
        _require_text(item.what, f"what action {i} is")
        _require_text(item.owner_name, f"who will do action {i}")
        if item.due_on is None:
            raise ActionRefused(f"Enter when action {i} is to be done by.")
    with acting_on(escalation, by, Act.RESOLVE, expected_revision=expected_revision) as esc:
        now = timezone.now()
        outcome = Outcome.objects.create(
            escalation=esc,
            category=category,
            summary=summary,
            raiser_satisfied=raiser_satisfied,
            recorded_by=by,
            recorded_at=now,
            stage_number=esc.stage.number,
        )
        Action.objects.bulk_create(
            Action(
                escalation=esc,
                outcome=outcome,
                what=a.what.strip(),
                owner_name=a.owner_name.strip(),
                owner=a.owner,
                owner_agency=a.owner_agency,
                due_on=a.due_on,
            )
            for a in actions
        )
        esc.resolve()
        episode = _end_episode(esc, "resolved", now)
        esc.resolved_on = now
        esc.due_at = esc.reminder_at = None
        esc.overdue = False
        record_event(
            esc,
            EventKind.RESOLVED,
            by,
            from_state=State.OPEN,
            reason=f"{OutcomeCategory(category).label}: {summary}",
        )
        notify(
            esc,
            NoticeKind.RESOLVED,
            [
                esc.raised_by,
                esc.holder,
                esc.receiving_person,
                episode.counterpart if episode else None,
            ],
            episode=episode,
            occasion=str(esc.event_count),
        )
    return esc


def reopen(
    escalation: Escalation | int, *, by: Person, reason: str, expected_revision: int | None = None
) -> Escalation:
    reason = _require_text(reason, "why you are reopening it")
    with acting_on(escalation, by, Act.REOPEN, expected_revision=expected_revision) as esc:
        if not esc.outstanding_actions().exists():
            raise ActionRefused(
                "Only an escalation with outcome actions still outstanding can be reopened."
            )
        now = timezone.now()
        esc.reopen()
        esc.resolved_on = None
        episode = _enter_stage(esc, esc.stage, now)
        record_event(esc, EventKind.REOPENED, by, from_state=State.RESOLVED, reason=reason)
        _announce_stage(esc, episode, NoticeKind.REOPENED, occasion=str(esc.event_count))
    return esc


def close(
    escalation: Escalation | int,
    *,
    by: Person,
    declined_reason: str = "",
    expected_revision: int | None = None,
) -> Escalation:
    """Resolved -> closed once the after-resolution steps are recorded, or declined with a reason."""
    with acting_on(escalation, by, Act.CLOSE, expected_revision=expected_revision) as esc:
        declined_reason = declined_reason.strip()
        has_after_steps = esc.ladder.stages.filter(after_resolution=True).exists()
        recorded = bool(esc.debrief_summary and esc.learning)
        if has_after_steps and not recorded and not declined_reason:
            raise ActionRefused(
                "Record the debrief and the learning before closing, or say why they are not being done."
            )
        if declined_reason:
            esc.debrief_declined_reason = declined_reason
        esc.close()
        esc.closed_on = timezone.now()
        record_event(esc, EventKind.CLOSED, by, from_state=State.RESOLVED, reason=declined_reason)
    return esc


def withdraw(
    escalation: Escalation | int, *, by: Person, reason: str, expected_revision: int | None = None
) -> Escalation:
    reason = _require_text(reason, "why the challenge is being withdrawn")
    with acting_on(escalation, by, Act.WITHDRAW, expected_revision=expected_revision) as esc:
        now = timezone.now()
        from_state = esc.state
        esc.withdraw()
        esc.withdrawn_on = now
        esc.due_at = esc.reminder_at = None
        esc.overdue = False
        esc.pending_stage = None
        if from_state != State.DRAFT:
            episode = _end_episode(esc, "withdrawn", now)
            Outcome.objects.create(
                escalation=esc,
                category=OutcomeCategory.WITHDRAWN,
                summary=reason,
                raiser_satisfied=None,
                recorded_by=by,
                recorded_at=now,
                stage_number=esc.stage.number,
            )
            notify(
                esc,
                NoticeKind.WITHDRAWN,
                [esc.holder, esc.receiving_person, episode.counterpart if episode else None],
                episode=episode,
                occasion=str(esc.event_count + 1),
            )
        record_event(esc, EventKind.WITHDRAWN, by, from_state=from_state, reason=reason)
    return esc


# --- the record -------------------------------------------------------------------------------


def add_note(
    escalation: Escalation | int,
    *,
    by: Person,
    body: str,
    kind: str = NoteKind.NOTE,
    happened_on: date | None = None,
    expected_revision: int | None = None,
) -> Note:
    body = _require_text(body, "the note")
    if kind not in NoteKind.values:
        raise ActionRefused("Select what kind of note this is.")
    happened_on = _not_future(happened_on or timezone.localdate(), "The date it happened")
    with acting_on(escalation, by, Act.ADD_NOTE, expected_revision=expected_revision) as esc:
        note = Note.objects.create(
            escalation=esc,
            kind=kind,
            author=by,
            body=body,
            happened_on=happened_on,
            agency=_agency_of(by, esc.raising_agency, esc.receiving_agency),
        )
        record_event(esc, EventKind.NOTE, by, reason=f"{NoteKind(kind).label}: {body}")
    return note


def record_position(
    escalation: Escalation | int, *, by: Person, body: str, expected_revision: int | None = None
) -> Position:
    body = _require_text(body, "your agency's position")
    with acting_on(escalation, by, Act.RECORD_POSITION, expected_revision=expected_revision) as esc:
        agency = _agency_of(by, esc.raising_agency, esc.receiving_agency) or esc.receiving_agency
        position = Position.objects.create(escalation=esc, agency=agency, author=by, body=body)
        record_event(esc, EventKind.POSITION, by, reason=f"Position of {agency.name}: {body}")
    return position


def record_response(
    escalation: Escalation | int,
    *,
    by: Person,
    summary: str,
    responded_on: date | None = None,
    expected_revision: int | None = None,
) -> Response:
    summary = _require_text(summary, "a summary of the response")
    responded_on = _not_future(responded_on or timezone.localdate(), "The date of the response")
    with acting_on(escalation, by, Act.RECORD_RESPONSE, expected_revision=expected_revision) as esc:
        membership = next(
            (m for m in by.memberships.all() if m.agency_id == esc.receiving_agency_id), None
        )
        response = Response.objects.create(
            escalation=esc,
            responder=by,
            responder_name=by.full_name,
            responder_job_title=membership.job_title if membership else "",
            responder_agency=esc.receiving_agency,
            responded_on=responded_on,
            summary=summary,
        )
        record_event(esc, EventKind.RESPONSE, by, reason=summary)
        notify(
            esc,
            NoticeKind.RESPONSE,
            [esc.raised_by, esc.holder],
            episode=current_episode(esc),
            occasion=str(esc.event_count),
        )
    return response


def mark_action_done(
    action_id: int,
    *,
    escalation: Escalation | int,
    by: Person,
    done_on: date | None = None,
    expected_revision: int | None = None,
) -> Action:
    done_on = _not_future(done_on or timezone.localdate(), "The date it was done")
    with acting_on(
        escalation, by, Act.MARK_ACTION_DONE, expected_revision=expected_revision
    ) as esc:
        action = esc.actions.filter(pk=action_id).first()
        if action is None:
            raise ActionRefused("That action is not part of this escalation.")
        if action.done_on:
            raise ActionRefused("That action is already marked done.")
        action.done_on = done_on
        action.done_by = by
        action.save(update_fields=["done_on", "done_by"])
        record_event(esc, EventKind.ACTION_DONE, by, reason=action.what)
    return action


def record_parents_informed(
    escalation: Escalation | int,
    *,
    by: Person,
    informed: bool,
    reason: str = "",
    expected_revision: int | None = None,
) -> Escalation:
    """Pan-Cheshire: parents and carers are told unless that would put the child at risk."""
    if not informed:
        reason = _require_text(reason, "why parents or carers were not told")
    with acting_on(escalation, by, Act.RECORD_PARENTS, expected_revision=expected_revision) as esc:
        esc.parents_informed = informed
        esc.parents_not_informed_reason = "" if informed else reason
        record_event(
            esc,
            EventKind.PARENTS,
            by,
            reason="Parents or carers were told" if informed else f"Not told: {reason}",
        )
    return esc


def record_learning(
    escalation: Escalation | int,
    *,
    by: Person,
    learning: str,
    policy_gap: str = "",
    expected_revision: int | None = None,
) -> Escalation:
    learning = _require_text(learning, "the learning identified (or 'none identified')")
    with acting_on(escalation, by, Act.RECORD_LEARNING, expected_revision=expected_revision) as esc:
        esc.learning = learning
        esc.policy_gap = policy_gap.strip()
        reason = f"Learning: {learning}" + (
            f" Policy gap referred: {esc.policy_gap}" if esc.policy_gap else ""
        )
        record_event(esc, EventKind.LEARNING, by, reason=reason)
    return esc


def record_debrief(
    escalation: Escalation | int,
    *,
    by: Person,
    summary: str,
    held_on: date,
    expected_revision: int | None = None,
) -> Escalation:
    summary = _require_text(summary, "what the debrief found")
    _not_future(held_on, "The date of the debrief")
    with acting_on(escalation, by, Act.RECORD_DEBRIEF, expected_revision=expected_revision) as esc:
        esc.debrief_summary = summary
        esc.debrief_on = held_on
        record_event(esc, EventKind.DEBRIEF, by, reason=summary)
    return esc


def share_with_partnership(
    escalation: Escalation | int, *, by: Person, reason: str, expected_revision: int | None = None
) -> Escalation:
    reason = _require_text(reason, "why you are sharing it with the partnership")
    with acting_on(
        escalation, by, Act.SHARE_WITH_PARTNERSHIP, expected_revision=expected_revision
    ) as esc:
        esc.partnership_sees_record = True
        record_event(esc, EventKind.SHARED, by, reason=reason)
    return esc


def add_participant(
    escalation: Escalation | int, *, by: Person, person: Person, reason: str = ""
) -> Participant:
    with acting_on(escalation, by, Act.ADD_PARTICIPANT) as esc:
        participant, created = Participant.objects.get_or_create(
            escalation=esc, person=person, defaults={"added_by": by, "reason": reason.strip()}
        )
        if created:
            record_event(
                esc,
                EventKind.PARTICIPANT_ADDED,
                by,
                reason=f"{person.full_name} added. {reason}".strip(),
            )
    return participant


# --- child protection conference concerns (Kirklees Appendix 3) -------------------------------


def may_record_conference_concern(person: Person, partnership: Partnership) -> bool:
    """Conference chairs sit in children's social care: any member of a children's social care
    agency of the partnership may record one (docs/adr/0005-conference-chairs.md)."""
    from cases.models import Sector

    return any(
        m.agency_id
        and m.agency.sector == Sector.CHILDRENS_SOCIAL_CARE
        and m.agency.partnerships.filter(pk=partnership.pk).exists()
        for m in person.memberships.all()
    )


def conference_concern_recipients(agency: Agency) -> tuple[str, list[Person]]:
    """Who a conference concern goes to, and as which kind of notice: the agency's active
    safeguarding leads; where it has none, its senior managers and line managers, told so.
    Never nobody: an agency with neither cannot be sent a concern (ActionRefused)."""
    leads = members(agency, [Role.SAFEGUARDING_LEAD])
    if leads:
        return NoticeKind.CONFERENCE_CONCERN, leads
    managers = members(agency, [Role.SENIOR_MANAGER, Role.LINE_MANAGER])
    if managers:
        return NoticeKind.CONFERENCE_CONCERN_NO_LEAD, managers
    raise ActionRefused(
        f"{agency.name} has no safeguarding lead or manager in the portal to send this to. "
        "Ask the partnership administrator to add one, then record the concern."
    )


def may_respond_to_conference_concern(person: Person, report) -> bool:
    """The agency's safeguarding lead answers; where the agency has no active lead, the senior
    managers and line managers the concern went to answer instead."""
    if person.has_role(Role.SAFEGUARDING_LEAD, agency_id=report.agency_id):
        return True
    if not any(
        person.has_role(role, agency_id=report.agency_id)
        for role in (Role.SENIOR_MANAGER, Role.LINE_MANAGER)
    ):
        return False
    return not members(report.agency, [Role.SAFEGUARDING_LEAD])


def notify_conference(report, kind: str, recipients: Iterable[Person]) -> int:
    """Outbox rows about a conference concern, written in the caller's transaction; the unique
    key makes a repeat a no-op. Relayed like escalation notices (working hours, digests)."""
    people = {person.pk: person for person in recipients}
    rows = [
        Notice(
            conference_report=report,
            kind=kind,
            recipient=person,
            key=f"conference:{report.pk}:{kind}:{person.pk}",
        )
        for person in people.values()
    ]
    Notice.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def record_conference_concern(
    *,
    by: Person,
    partnership: Partnership,
    meeting_on: date,
    family_identifier: str,
    chair_name: str,
    agency: Agency,
    reason: str,
    details: str,
    agency_representative: str = "",
):
    """The chair's record; it goes to the named agency's safeguarding lead (a notice written in
    the same transaction, so the record is never kept without telling them)."""
    from escalations.conference import ConferenceReason, ConferenceReport

    if not may_record_conference_concern(by, partnership):
        raise ActionRefused(
            "Only a child protection conference chair (children's social care) can record this."
        )
    if reason not in ConferenceReason.values:
        raise ActionRefused("Select the reason for the escalation.")
    if not agency.partnerships.filter(pk=partnership.pk).exists():
        raise ActionRefused(f"{agency.name} is not an agency of {partnership.name}.")
    _not_future(meeting_on, "The date of the meeting")
    fields = {
        "family_identifier": _require_text(
            family_identifier, "the family name or identifying factors"
        ),
        "chair_name": _require_text(chair_name, "the name of the conference chair"),
        "details": _require_text(details, "the reason for the escalation"),
    }
    kind, recipients = conference_concern_recipients(agency)
    with transaction.atomic():
        report = ConferenceReport.objects.create(
            partnership=partnership,
            recorded_by=by,
            meeting_on=meeting_on,
            agency=agency,
            agency_representative=agency_representative.strip(),
            reason=reason,
            **fields,
        )
        notify_conference(report, kind, recipients)
    return report


def respond_to_conference_concern(report, *, by: Person, summary: str):
    """The named agency's safeguarding lead answers; once only (the row lock and the one-to-one
    make a second answer a refusal, not a duplicate). The chair is told in the same
    transaction."""
    from escalations.conference import ConferenceReport, ConferenceResponse

    summary = _require_text(summary, "your response")
    with transaction.atomic():
        locked = (
            ConferenceReport.objects.select_for_update(of=("self",))
            .select_related("agency", "recorded_by")
            .get(pk=report.pk)
        )
        if not may_respond_to_conference_concern(by, locked):
            raise ActionRefused(f"Only a safeguarding lead of {locked.agency} can respond.")
        if ConferenceResponse.objects.filter(report=locked).exists():
            raise ActionRefused("This concern already has a response.")
        response = ConferenceResponse.objects.create(
            report=locked, responded_by=by, summary=summary
        )
        if locked.recorded_by_id != by.pk:
            notify_conference(locked, NoticeKind.CONFERENCE_RESPONSE, [locked.recorded_by])
        return response
