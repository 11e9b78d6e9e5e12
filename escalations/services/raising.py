"""Raising a challenge: a draft on the child's partnership's current ladder, then submitted:
numbered, its clock started from the initial discussion, people told."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.models import Agency, Child, Person
from cases.people import members
from escalations.models import (
    Escalation,
    EscalationNature,
    EventKind,
    Nature,
    NoticeKind,
    Pathway,
    ReferenceSequence,
    State,
)
from escalations.notices.relay import relay_urgent_after_commit
from escalations.permissions import Act
from escalations.services.acting import (
    ActionRefused,
    acting_on,
    not_future,
    notify,
    record_event,
    require_text,
)
from escalations.services.ladder import FALLBACK_ROLES, announce_stage, enter_stage
from policies.calendar import start_of_day
from policies.models import Partnership, Role


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
    not_future(initial_discussion_on, "The date of the initial discussion")
    details = require_text(details, "the details of the difference")
    outcome_sought = require_text(outcome_sought, "the outcome you are seeking")
    interim_safety = require_text(
        interim_safety, "who is keeping the child safe meanwhile, and how"
    )
    partnership = child.home_partnership
    ladder = partnership.current_ladder
    if ladder is None:
        raise ActionRefused(f"{partnership.name} has no ladder loaded yet.")
    stages = {stage.number: stage for stage in ladder.escalation_stages()}
    if start_stage_number != 1 and not partnership.start_at_any_stage:
        # Only policies that give discretion over the starting stage allow a later start
        # (playgroup, Berkshire); the others give an emergency route instead (issue 15).
        raise ActionRefused(
            f"{partnership.name}'s policy starts every escalation at stage 1. If a child is at "
            f"immediate risk, use its emergency route: {partnership.emergency_summary}"
        )
    if start_stage_number != 1 and not immediate_risk:
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


def _next_reference(partnership: Partnership, year: int) -> str:
    sequence, _ = ReferenceSequence.objects.select_for_update().get_or_create(
        partnership=partnership, year=year
    )
    sequence.last_number = F("last_number") + 1
    sequence.save(update_fields=["last_number"])
    sequence.refresh_from_db(fields=["last_number"])
    return f"{partnership.reference_prefix}-{year}-{sequence.last_number:05d}"


def submit_escalation(escalation: Escalation, *, by: Person) -> Escalation:
    """Draft -> open: numbered, clock started from the initial discussion, people told."""
    with acting_on(escalation, by, Act.SUBMIT) as esc:
        now = timezone.now()
        esc.reference = _next_reference(esc.partnership, timezone.localtime(now).year)
        esc.raised_on = now
        esc.submit()
        start = start_of_day(esc.initial_discussion_on)
        episode = enter_stage(esc, esc.stage, now, clock_start=start)
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
        announce_stage(esc, episode, NoticeKind.RAISED, occasion=str(esc.event_count))
        if esc.immediate_risk:
            notify(
                esc,
                NoticeKind.IMMEDIATE_RISK,
                members(esc.raising_agency, [Role.SAFEGUARDING_LEAD])
                or members(esc.raising_agency, FALLBACK_ROLES),
                episode=episode,
                urgent=True,
            )
    # Urgent notices (immediate risk) go at once after commit, not at the next relay run.
    relay_urgent_after_commit()
    return esc
