"""Who may do what to an escalation (SPEC section 2), in one place.

Relationships are worked out once per (person, escalation); every action is a rule over them.
In small voluntary organisations one person may hold several roles; the rules allow that.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cases.models import Person
from escalations import approvals, moving
from escalations.models import Escalation, State
from policies.models import AGENCY_OVERSIGHT_ROLES, Role


class Act(StrEnum):
    SUBMIT = "submit"
    ADD_NOTE = "add_note"
    RECORD_POSITION = "record_position"
    RECORD_RESPONSE = "record_response"
    ESCALATE = "escalate"
    # Where the next stage names who moves it there and the person is not one of them.
    ASK_TO_ESCALATE = "ask_to_escalate"
    ADVANCE_STEP = "advance_step"
    APPROVE = "approve"
    RETURN_WITH_COMMENTS = "return_with_comments"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    MARK_ACTION_DONE = "mark_action_done"
    RECORD_PARENTS = "record_parents"
    RECORD_CHILD_FILE = "record_child_file"
    RECORD_LEARNING = "record_learning"
    RECORD_DEBRIEF = "record_debrief"
    SHARE_WITH_PARTNERSHIP = "share_with_partnership"
    ADD_PARTICIPANT = "add_participant"


@dataclass(frozen=True)
class Relationship:
    raiser: bool
    holder: bool
    raising_side: bool
    raising_oversight: bool
    receiving_side: bool
    receiving_oversight: bool
    participant: bool
    partnership_role: bool  # business manager or chair, once the partnership sees the record
    partnership_stage: bool  # the escalation is at a stage that brings the partnership in
    raising_roles: frozenset[str] = frozenset()

    @property
    def party(self) -> bool:
        return (
            self.raiser
            or self.holder
            or self.raising_side
            or self.receiving_side
            or self.participant
            or self.partnership_role
        )

    @property
    def drives(self) -> bool:
        """May move the escalation on for the raising side."""
        # The partnership decides only at its own stages (SPEC section 2: the business manager
        # receives records at the partnership stages, the chair decides at the top); a record
        # merely shared with it earlier is for information.
        return (
            self.raiser
            or self.holder
            or self.raising_oversight
            or (self.partnership_role and self.partnership_stage)
        )


def relationship(
    person: Person, escalation: Escalation, *, participant: bool | None = None
) -> Relationship:
    memberships = list(person.memberships.all())
    raising_roles = {m.role for m in memberships if m.agency_id == escalation.raising_agency_id}
    receiving_roles = {m.role for m in memberships if m.agency_id == escalation.receiving_agency_id}
    partnership_roles = {
        m.role for m in memberships if m.partnership_id == escalation.partnership_id
    }
    if participant is None:
        participant = escalation.participants.filter(person=person).exists()
    raiser = escalation.raised_by_id == person.pk
    holder = escalation.holder_id == person.pk
    receiving_person = escalation.receiving_person_id == person.pk
    involved = raiser or holder or receiving_person or participant
    raising_oversight = bool(raising_roles & AGENCY_OVERSIGHT_ROLES)
    receiving_oversight = bool(receiving_roles & AGENCY_OVERSIGHT_ROLES)
    return Relationship(
        raiser=raiser,
        holder=holder,
        # A practitioner of either agency acts only in escalations they take part in, as they
        # only see those (SPEC section 3); managers and leads act in all of their agency's.
        raising_side=raising_oversight or (bool(raising_roles) and involved),
        raising_oversight=raising_oversight,
        receiving_side=receiving_oversight
        or receiving_person
        or (bool(receiving_roles) and involved),
        receiving_oversight=receiving_oversight,
        participant=participant,
        partnership_role=escalation.partnership_sees_record
        and bool(partnership_roles & {Role.BUSINESS_MANAGER, Role.CHAIR}),
        partnership_stage=escalation.stage.brings_in_partnership,
        raising_roles=frozenset(raising_roles),
    )


def allowed_actions(
    person: Person | None, escalation: Escalation, *, participant: bool | None = None
) -> frozenset[Act]:
    if person is None or not person.user.is_active:
        return frozenset()
    r = relationship(person, escalation, participant=participant)
    state = escalation.state
    acts: set[Act] = set()
    if state == State.DRAFT:
        if r.raiser:
            acts |= {Act.SUBMIT, Act.WITHDRAW}
        return frozenset(acts)
    if state in (State.OPEN, State.AWAITING_APPROVAL, State.RESOLVED) and r.party:
        acts |= {Act.ADD_NOTE, Act.MARK_ACTION_DONE, Act.RECORD_PARENTS}
        if r.raising_side or r.receiving_side:
            acts.add(Act.RECORD_POSITION)
        if r.receiving_side:
            acts.add(Act.RECORD_RESPONSE)
        if r.raising_oversight or r.receiving_oversight:
            acts.add(Act.SHARE_WITH_PARTNERSHIP)
        if r.raising_side or r.receiving_oversight or r.partnership_role:
            acts |= {Act.RECORD_LEARNING, Act.RECORD_DEBRIEF}
        if r.drives or r.receiving_oversight:
            acts.add(Act.ADD_PARTICIPANT)
    if state == State.OPEN and (r.drives or r.raising_side):
        following = moving.following_stage(escalation)
        if following is not None and not moving.roles_may_move_into(r.raising_roles, following):
            # Only the roles the stage names move it there (escalations.moving); the others
            # see who may and can ask them.
            acts.add(Act.ASK_TO_ESCALATE)
        elif following is not None and r.drives:
            acts.add(Act.ESCALATE)
    if state == State.OPEN and r.drives:
        acts |= {Act.RESOLVE, Act.WITHDRAW}
        if escalation.step + 1 < len(escalation.stage.steps or []):
            acts.add(Act.ADVANCE_STEP)
    if state == State.AWAITING_APPROVAL:
        if approvals.may_decide(person, escalation, r.raising_roles):
            acts |= {Act.APPROVE, Act.RETURN_WITH_COMMENTS}
        if r.raiser or r.raising_oversight:
            acts.add(Act.WITHDRAW)
    partnership = escalation.partnership
    if (
        (r.raising_side or r.receiving_side)
        and partnership.child_file_record
        and (
            state in (State.RESOLVED, State.CLOSED)
            # "At all stages" (Kirklees): each agency confirms it at each stage too.
            or (
                state in (State.OPEN, State.AWAITING_APPROVAL)
                and partnership.child_file_at_each_stage
            )
        )
    ):
        acts.add(Act.RECORD_CHILD_FILE)
    if state == State.RESOLVED and r.drives:
        acts.add(Act.CLOSE)
        acts.add(Act.REOPEN)
    return frozenset(acts)


def can(person: Person | None, act: Act, escalation: Escalation) -> bool:
    return act in allowed_actions(person, escalation)


def may_open_approvals(person: Person) -> bool:
    """The approvals queue: escalations.approvals.may_open_queue."""
    return approvals.may_open_queue(person)
