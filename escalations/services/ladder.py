"""Moving up the ladder: who acts at a stage, entering and announcing it, escalating (with
the approval gate of escalations.approvals where the stage has one), approving or returning,
and the next timed step."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from cases.models import Person
from cases.people import members, partnership_members
from escalations import approvals
from escalations.clock import current_episode, end_episode, set_clock
from escalations.models import (
    Approval,
    Escalation,
    EventKind,
    NoticeKind,
    StageEpisode,
    State,
)
from escalations.moving import may_move_into, moved_by_in_words, movers, who_may_move_into
from escalations.notices.access import hide_where_sight_lost
from escalations.permissions import Act
from escalations.record.due import request_record_copy
from escalations.services.acting import (
    ActionRefused,
    acting_on,
    notify,
    record_event,
    require_text,
)
from policies.models import AGENCY_ROLES, PARTNERSHIP_ROLES, Role, Stage

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


# Who is told for the receiving agency when the stage names its practitioner and nobody knows
# who that is (ADR 0022): its safeguarding lead, who sees all of the agency's escalations and
# is the one the policies send a challenge to when the practitioner cannot be identified; else
# its senior managers, else its line managers. Never an arbitrary practitioner of the agency,
# who could not open the escalation the notice points at (SPEC section 3).
UNKNOWN_PRACTITIONER_ROLES = [Role.SAFEGUARDING_LEAD, Role.SENIOR_MANAGER, Role.LINE_MANAGER]


def counterpart_person(escalation: Escalation, stage: Stage) -> Person | None:
    """Who takes the stage for the receiving agency: the named practitioner where the stage
    is theirs, else the agency's first person in the stage's roles, else a stand-in; only ever
    someone who may open the escalation (a practitioner only when they are the one named)."""
    roles = [r for r in stage.counterpart_roles if r in AGENCY_ROLES]
    if Role.PRACTITIONER in roles and escalation.receiving_person_id:
        return escalation.receiving_person
    oversight = [r for r in roles if r != Role.PRACTITIONER] or UNKNOWN_PRACTITIONER_ROLES
    candidates = members(escalation.receiving_agency, oversight) or members(
        escalation.receiving_agency, UNKNOWN_PRACTITIONER_ROLES
    )
    return candidates[0] if candidates else escalation.receiving_person


def enter_stage(
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
    previous_holder_id = escalation.holder_id
    escalation.holder = holder or acting_person(escalation, stage)
    escalation.stage_started_at = clock_start or now
    set_clock(escalation, clock_start or now)
    if stage.brings_in_partnership:
        escalation.partnership_sees_record = True
    if previous_holder_id not in (None, escalation.holder_id):
        # The holder replaced may no longer open it: their notices about it stop showing.
        hide_where_sight_lost(escalation, [previous_holder_id])
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


def announce_stage(escalation: Escalation, episode: StageEpisode, kind: str, occasion: str) -> None:
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


def next_stage(escalation: Escalation) -> Stage | None:
    return (
        escalation.ladder.stages.filter(number__gt=escalation.stage.number, after_resolution=False)
        .order_by("number")
        .first()
    )


def direct_stage(escalation: Escalation) -> Stage | None:
    """The stage the ladder lets an escalation reach straight from here, past the next one
    (Kirklees step 6, for "significant policy issues"); None where there is none."""
    following = next_stage(escalation)
    if following is None:
        return None
    return (
        escalation.ladder.stages.filter(
            number__gt=following.number, after_resolution=False, reached_directly=True
        )
        .order_by("number")
        .first()
    )


def ask_to_escalate(
    escalation: Escalation | int,
    *,
    by: Person,
    reason: str,
    expected_revision: int | None = None,
) -> Escalation:
    """Ask the people who may move it into the next stage to do so, where the stage names
    them and the asker is not one (Pan-Cheshire step 3: "escalated by a Senior Manager").
    The reason goes in the history; they are told through the outbox, by the stage's due
    moment."""
    reason = require_text(reason, "why it should go to the next stage")
    with acting_on(escalation, by, Act.ASK_TO_ESCALATE, expected_revision=expected_revision) as esc:
        target = next_stage(esc)
        people = movers(esc, target) if target is not None else []
        if not people:
            raise ActionRefused(
                who_may_move_into(esc, target)
                if target is not None
                else "This escalation is at the last stage of the ladder."
            )
        event = record_event(
            esc,
            EventKind.ESCALATION_ASKED,
            by,
            reason=f"Asked {' or '.join(p.full_name for p in people)} "
            f"({moved_by_in_words(target)}) to move it to stage {target.number} "
            f"({target.name}): {reason}",
        )
        # One notice per request: asking again (a week later) tells them again.
        notify(esc, NoticeKind.ESCALATION_ASKED, people, occasion=f"asked{event.sequence}")
    return esc


def refer_directly(
    escalation: Escalation | int,
    *,
    by: Person,
    reason: str,
    expected_revision: int | None = None,
) -> Escalation:
    """Straight to the stage the ladder lets anyone reach from any stage, with the reason
    (Kirklees step 6: "the discussions raise significant policy issues"). The same rules as
    escalate() otherwise: who may move it there, and any approval gate."""
    reason = require_text(reason, "why it goes straight to that stage")
    return escalate(
        escalation, by=by, reason=reason, expected_revision=expected_revision, directly=True
    )


def escalate(
    escalation: Escalation | int,
    *,
    by: Person,
    reason: str,
    to: Person | None = None,
    expected_revision: int | None = None,
    directly: bool = False,
) -> Escalation:
    """Move to the next stage (or, `directly`, to the stage the ladder lets anyone reach from
    any stage), or ask the raising agency's approvers first where the ladder says so."""
    reason = require_text(reason, "why you are escalating")
    with acting_on(escalation, by, Act.ESCALATE, expected_revision=expected_revision) as esc:
        target = direct_stage(esc) if directly else next_stage(esc)
        if directly and target is None:
            raise ActionRefused("This ladder has no stage to refer it to directly from here.")
        if directly:
            reason = f"Referred directly to stage {target.number} ({target.name}): {reason}"
        if target is None:
            raise ActionRefused(
                "This escalation is at the last stage of the ladder; it can only be resolved."
            )
        if not may_move_into(by, esc, target):
            raise ActionRefused(who_may_move_into(esc, target))
        now = timezone.now()
        from_stage = esc.stage.number
        if approvals.needs_approval(target):
            asked = approvals.approvers(esc, target, by)
            if not asked.people:
                # Raised before anything is changed; the transaction leaves nothing behind.
                raise ActionRefused(approvals.nobody_to_approve(esc, target, by))
            esc.request_approval()
            esc.pending_stage = target
            esc.approval_requested_by = by
            esc.approval_asked_as = asked.role
            esc.approval_asked_of = asked.in_words()[:300]
            esc.approval_reason = reason
            if asked.stand_in:
                reason = f"{reason}\n\n{approvals.request_note(esc)}"
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
        end_episode(esc, "escalated", now)
        episode = enter_stage(esc, target, now, holder=to)
        record_event(
            esc,
            EventKind.ESCALATED,
            by,
            from_state=State.OPEN,
            from_stage=from_stage,
            reason=reason,
        )
        announce_stage(esc, episode, NoticeKind.ESCALATED, occasion=str(esc.event_count))
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
        reason = _decide(esc, by, Approval.Decision.APPROVED, comments.strip(), now)
        esc.approve()
        end_episode(esc, "escalated", now)
        episode = enter_stage(esc, target, now)
        record_event(
            esc,
            EventKind.APPROVED,
            by,
            from_state=State.AWAITING_APPROVAL,
            from_stage=from_stage,
            reason=reason,
        )
        announce_stage(esc, episode, NoticeKind.ESCALATED, occasion=str(esc.event_count))
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
    comments = require_text(comments, "your comments for the person who asked")
    with acting_on(
        escalation, by, Act.RETURN_WITH_COMMENTS, expected_revision=expected_revision
    ) as esc:
        reason = _decide(esc, by, Approval.Decision.RETURNED, comments, timezone.now())
        esc.return_with_comments()
        esc.pending_stage = None
        record_event(
            esc,
            EventKind.RETURNED,
            by,
            from_state=State.AWAITING_APPROVAL,
            reason=reason,
        )
        notify(
            esc,
            NoticeKind.RETURNED,
            [esc.approval_requested_by, esc.holder],
            episode=current_episode(esc),
            occasion=str(esc.event_count),
        )
    return esc


def _decide(escalation: Escalation, by: Person, decision: str, comments: str, now) -> str:
    """Record the decision on the pending request, in the role the person decides in; return
    the event's reason: the comments, saying so where a stand-in decided for the approver."""
    decided_as = approvals.decided_as(by, escalation)
    Approval.objects.create(
        escalation=escalation,
        stage=escalation.pending_stage,
        decided_by=by,
        decision=decision,
        decided_as=decided_as,
        comments=comments,
        decided_at=now,
    )
    decided = "Approved" if decision == Approval.Decision.APPROVED else "Returned"
    note = approvals.decision_note(by, escalation, decided_as, decided)
    if not note:
        return comments
    return f"{comments}\n\n{note}" if comments else note


def advance_step(
    escalation: Escalation | int, *, by: Person, note: str, expected_revision: int | None = None
) -> Escalation:
    """Move to the stage's next timed step (Berkshire stage 1: report to the line manager)."""
    note = require_text(note, "what happened at this step")
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
