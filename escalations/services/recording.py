"""Recording what happens along the way: notes, written positions, responses, actions done,
parents and carers, learning, the debrief, sharing with the partnership, people added."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from cases.models import Person
from cases.people import agency_of, partnership_members
from escalations.clock import current_episode
from escalations.models import (
    Action,
    Escalation,
    EventKind,
    Note,
    NoteKind,
    NoticeKind,
    Participant,
    Position,
    Response,
)
from escalations.permissions import Act
from escalations.services.acting import (
    ActionRefused,
    acting_on,
    not_future,
    notify,
    record_event,
    require_text,
)
from policies.models import Role


def add_note(
    escalation: Escalation | int,
    *,
    by: Person,
    body: str,
    kind: str = NoteKind.NOTE,
    happened_on: date | None = None,
    expected_revision: int | None = None,
) -> Note:
    body = require_text(body, "the note")
    if kind not in NoteKind.values:
        raise ActionRefused("Select what kind of note this is.")
    happened_on = not_future(happened_on or timezone.localdate(), "The date it happened")
    with acting_on(escalation, by, Act.ADD_NOTE, expected_revision=expected_revision) as esc:
        note = Note.objects.create(
            escalation=esc,
            kind=kind,
            author=by,
            body=body,
            happened_on=happened_on,
            agency=agency_of(by, esc.raising_agency, esc.receiving_agency),
        )
        record_event(esc, EventKind.NOTE, by, reason=f"{NoteKind(kind).label}: {body}")
    return note


def record_position(
    escalation: Escalation | int, *, by: Person, body: str, expected_revision: int | None = None
) -> Position:
    body = require_text(body, "your agency's position")
    with acting_on(escalation, by, Act.RECORD_POSITION, expected_revision=expected_revision) as esc:
        agency = agency_of(by, esc.raising_agency, esc.receiving_agency) or esc.receiving_agency
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
    summary = require_text(summary, "a summary of the response")
    responded_on = not_future(responded_on or timezone.localdate(), "The date of the response")
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
    done_on = not_future(done_on or timezone.localdate(), "The date it was done")
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
        reason = require_text(reason, "why parents or carers were not told")
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
    learning = require_text(learning, "the learning identified (or 'none identified')")
    with acting_on(escalation, by, Act.RECORD_LEARNING, expected_revision=expected_revision) as esc:
        esc.learning = learning
        esc.policy_gap = policy_gap.strip()
        reason = f"Learning: {learning}" + (
            f" Policy gap referred: {esc.policy_gap}" if esc.policy_gap else ""
        )
        record_event(esc, EventKind.LEARNING, by, reason=reason)
        partnership = esc.partnership
        if (partnership.learning_to_partnership and esc.learning) or (
            partnership.policy_gaps_to_partnership and esc.policy_gap
        ):
            # Kirklees: "records of any learning should be shared with the KSCP Business
            # unit"; Berkshire: gaps in policies "must be brought to the attention of the
            # Local Statutory Safeguarding Children Partners". The words reach the
            # partnership's dashboard (dashboards.queries.learning_and_gaps).
            notify(
                esc,
                NoticeKind.LEARNING_TO_PARTNERSHIP,
                partnership_members(partnership, [Role.BUSINESS_MANAGER]),
                occasion=str(esc.event_count),
            )
    return esc


def record_debrief(
    escalation: Escalation | int,
    *,
    by: Person,
    summary: str,
    held_on: date,
    expected_revision: int | None = None,
) -> Escalation:
    summary = require_text(summary, "what the debrief found")
    not_future(held_on, "The date of the debrief")
    with acting_on(escalation, by, Act.RECORD_DEBRIEF, expected_revision=expected_revision) as esc:
        esc.debrief_summary = summary
        esc.debrief_on = held_on
        record_event(esc, EventKind.DEBRIEF, by, reason=summary)
    return esc


def share_with_partnership(
    escalation: Escalation | int, *, by: Person, reason: str, expected_revision: int | None = None
) -> Escalation:
    reason = require_text(reason, "why you are sharing it with the partnership")
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
