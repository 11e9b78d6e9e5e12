"""Ending an escalation: resolved with a written outcome and actions, reopened while actions
are outstanding, closed after the debrief and learning, or withdrawn."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from cases.models import Agency, Person
from cases.people import partnership_members
from escalations.clock import end_episode
from escalations.models import (
    Action,
    Escalation,
    EventKind,
    NoticeKind,
    Outcome,
    OutcomeCategory,
    State,
)
from escalations.permissions import Act
from escalations.services.acting import (
    ActionRefused,
    acting_on,
    notify,
    record_event,
    require_text,
)
from escalations.services.child_file import ask_for_child_file_records
from escalations.services.ladder import announce_stage, enter_stage
from policies.models import Role


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
    summary = require_text(summary, "the agreed outcome in writing")
    actions = list(actions)
    for i, item in enumerate(actions, start=1):
        require_text(item.what, f"what action {i} is")
        require_text(item.owner_name, f"who will do action {i}")
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
        episode = end_episode(esc, "resolved", now)
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
        partnership = esc.partnership
        if partnership.outcomes_from_stage and esc.stage.number >= partnership.outcomes_from_stage:
            # "Decisions and Actions must be recorded and from Stage 4 onwards forwarded to
            # the Local Statutory Safeguarding Children Partners" (Berkshire); the playgroup's
            # Board Manager "should be advised of any outcome"; the LSCB keeps Pan-Cheshire's
            # step 4 outcomes (ladder file: outcomes_from_stage).
            notify(
                esc,
                NoticeKind.OUTCOME_TO_PARTNERSHIP,
                partnership_members(partnership, [Role.BUSINESS_MANAGER]),
                episode=episode,
                occasion=str(esc.event_count),
            )
        ask_for_child_file_records(
            esc,
            [
                esc.raised_by,
                esc.holder,
                esc.receiving_person,
                episode.counterpart if episode else None,
            ],
            occasion=str(esc.event_count),
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
    reason = require_text(reason, "why you are reopening it")
    with acting_on(escalation, by, Act.REOPEN, expected_revision=expected_revision) as esc:
        if not esc.outstanding_actions().exists():
            raise ActionRefused(
                "Only an escalation with outcome actions still outstanding can be reopened."
            )
        now = timezone.now()
        esc.reopen()
        esc.resolved_on = None
        episode = enter_stage(esc, esc.stage, now)
        record_event(esc, EventKind.REOPENED, by, from_state=State.RESOLVED, reason=reason)
        announce_stage(esc, episode, NoticeKind.REOPENED, occasion=str(esc.event_count))
    return esc


def close(
    escalation: Escalation | int,
    *,
    by: Person,
    declined_reason: str = "",
    expected_revision: int | None = None,
) -> Escalation:
    """Resolved -> closed. The debrief and the learning are offered everywhere and never block
    closing: no policy requires them (Kirklees step 7 "Consideration should also be given";
    the playgroup "It may be useful"). Only a policy that requires parents and carers to be
    told (Pan-Cheshire: "Parents and carers should also be informed") needs whether they were
    recorded first. A reason given for not holding a debrief is kept."""
    with acting_on(escalation, by, Act.CLOSE, expected_revision=expected_revision) as esc:
        declined_reason = declined_reason.strip()
        partnership = esc.partnership
        if partnership.parents_and_carers_required and esc.parents_informed is None:
            raise ActionRefused(
                "Record whether parents or carers were told before closing: "
                f"{partnership.name}'s policy says {partnership.parents_and_carers}"
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
    reason = require_text(reason, "why the challenge is being withdrawn")
    with acting_on(escalation, by, Act.WITHDRAW, expected_revision=expected_revision) as esc:
        now = timezone.now()
        from_state = esc.state
        esc.withdraw()
        esc.withdrawn_on = now
        esc.due_at = esc.reminder_at = None
        esc.overdue = False
        esc.pending_stage = None
        if from_state != State.DRAFT:
            episode = end_episode(esc, "withdrawn", now)
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
