"""Who may move an escalation into a stage: the one home of the rule (issue 15, point 5).

Most stages may be entered by whoever drives the escalation for the raising side. A stage
whose ladder file names `moved_by` is entered only by someone of the raising agency in one of
those roles (Pan-Cheshire step 3: "they must be escalated by a Senior Manager to the LSCB Board
representative"). Everyone else sees who may, and may ask them (services.ask_to_escalate).
The permissions (escalations.permissions), the escalate service and the pages all ask here."""

from __future__ import annotations

from collections.abc import Iterable

from cases.models import Person
from cases.people import members
from escalations.models import Escalation
from policies.models import Role, Stage


def following_stage(escalation: Escalation, stages: Iterable[Stage] | None = None) -> Stage | None:
    """The next escalation stage of the ladder, from its stages where the caller has them
    (else one query, none where they were prefetched)."""
    if stages is None:
        stages = escalation.ladder.stages.all()
    later = [
        stage
        for stage in stages
        if stage.number > escalation.stage.number and not stage.after_resolution
    ]
    return min(later, key=lambda stage: stage.number) if later else None


def roles_may_move_into(raising_roles: Iterable[str], target: Stage) -> bool:
    """Whether someone holding these roles in the raising agency may move it into the stage."""
    return not target.moved_by or bool(set(raising_roles) & set(target.moved_by))


def raising_roles(person: Person, escalation: Escalation) -> set[str]:
    return {m.role for m in person.memberships.all() if m.agency_id == escalation.raising_agency_id}


def may_move_into(person: Person, escalation: Escalation, target: Stage) -> bool:
    """Whether the person may move the escalation into the target stage: anyone who may
    escalate, unless the stage names who moves it there; then only someone of the raising
    agency in that role."""
    return roles_may_move_into(raising_roles(person, escalation), target)


def movers(escalation: Escalation, target: Stage) -> list[Person]:
    """The people who may move it into the stage and may open the escalation (a notice to
    anyone else would point at a page they cannot see, ADR 0022); [] for a stage that names
    nobody."""
    if not target.moved_by:
        return []
    return [
        person
        for person in members(escalation.raising_agency, target.moved_by)
        if escalation.open_to(person)
    ]


def moved_by_in_words(target: Stage) -> str:
    """'head of service / senior manager'"""
    return " or ".join(Role(role).label.lower() for role in target.moved_by)


def who_may_move_into(escalation: Escalation, target: Stage) -> str:
    """'Only a head of service / senior manager of Meadow School may move it to stage 3 (LSCB
    Board Members): ask Dan Dale.' for a stage that names who moves it there; '' otherwise."""
    if not target.moved_by:
        return ""
    agency = escalation.raising_agency
    people = movers(escalation, target)
    ask = (
        f"ask {' or '.join(p.full_name for p in people)}"
        if people
        else f"{agency.name} has nobody in that role in the portal: ask your safeguarding lead "
        "or the partnership's business manager"
    )
    return (
        f"Only a {moved_by_in_words(target)} of {agency.name} may move it to stage "
        f"{target.number} ({target.name}): {ask}."
    )
