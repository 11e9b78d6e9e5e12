"""Child protection conference concerns (Kirklees Appendix 3, where a ladder file defines
them): who may record one, who it goes to, who answers; each change and its notices in one
transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction

from cases.models import Agency, Person, Sector
from cases.people import members
from escalations.models import (
    ConferenceReason,
    ConferenceReport,
    ConferenceResponse,
    Notice,
    NoticeKind,
)
from escalations.services.acting import ActionRefused, not_future, require_text
from policies.models import Partnership, Role


def may_record_conference_concern(person: Person, partnership: Partnership) -> bool:
    """Conference chairs sit in children's social care: any member of a children's social care
    agency of the partnership may record one (docs/adr/0004-conference-chairs.md)."""
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
    if not may_record_conference_concern(by, partnership):
        raise ActionRefused(
            "Only a child protection conference chair (children's social care) can record this."
        )
    if reason not in ConferenceReason.values:
        raise ActionRefused("Select the reason for the escalation.")
    if not agency.partnerships.filter(pk=partnership.pk).exists():
        raise ActionRefused(f"{agency.name} is not an agency of {partnership.name}.")
    not_future(meeting_on, "The date of the meeting")
    fields = {
        "family_identifier": require_text(
            family_identifier, "the family name or identifying factors"
        ),
        "chair_name": require_text(chair_name, "the name of the conference chair"),
        "details": require_text(details, "the reason for the escalation"),
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
    summary = require_text(summary, "your response")
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
