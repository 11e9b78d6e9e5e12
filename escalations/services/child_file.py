"""Recording on the child's file (issue 15, point 9): each agency's confirmation that it has
recorded the escalation on its own file for the child, with the date and its file reference.
Asked for where the partnership's policy says so (Partnership.child_file_record)."""

from __future__ import annotations

from datetime import date

from cases.models import Agency, Person
from escalations.models import ChildFileRecord, Escalation, EventKind, NoticeKind
from escalations.permissions import Act
from escalations.services.acting import (
    ActionRefused,
    acting_on,
    not_future,
    notify,
    record_event,
    require_text,
)


def _agency_of(person: Person, escalation: Escalation) -> Agency:
    """The party agency the person records for: the raising one where they belong to it."""
    ids = {m.agency_id for m in person.memberships.all() if m.agency_id}
    for agency in (escalation.raising_agency, escalation.receiving_agency):
        if agency.pk in ids:
            return agency
    raise ActionRefused("Only someone in one of the two agencies can confirm its own file.")


def record_on_child_file(
    escalation: Escalation | int,
    *,
    by: Person,
    recorded_on: date,
    file_reference: str,
    expected_revision: int | None = None,
) -> Escalation:
    """Confirm, for the person's own agency, that the escalation is recorded on the agency's
    file for the child. A second confirmation for the same agency corrects the first."""
    file_reference = require_text(file_reference, "your agency's reference for the child's file")
    if len(file_reference) > 100:
        raise ActionRefused("The file reference must be 100 characters or fewer.")
    not_future(recorded_on, "The date it was recorded on the child's file")
    with acting_on(
        escalation, by, Act.RECORD_CHILD_FILE, expected_revision=expected_revision
    ) as esc:
        agency = _agency_of(by, esc)
        ChildFileRecord.objects.update_or_create(
            escalation=esc,
            agency=agency,
            defaults={
                "recorded_by": by,
                "recorded_on": recorded_on,
                "file_reference": file_reference,
            },
        )
        record_event(
            esc,
            EventKind.CHILD_FILE,
            by,
            reason=f"{agency.name} recorded it on its file for the child on "
            f"{recorded_on:%-d %B %Y} (reference {file_reference}).",
        )
    return esc


def child_file_status(escalation: Escalation) -> list[dict]:
    """Per party agency: its confirmation, or None where it has not confirmed yet."""
    records = {r.agency_id: r for r in escalation.child_file_records.select_related("recorded_by")}
    return [
        {"agency": agency, "record": records.get(agency.pk)}
        for agency in (escalation.raising_agency, escalation.receiving_agency)
    ]


def ask_for_child_file_records(escalation: Escalation, people, *, occasion: str) -> None:
    """At resolution, where the policy asks for it: each agency's holder is asked to record
    it on the child's file and confirm (the notice never names the child)."""
    if escalation.partnership.child_file_record:
        notify(escalation, NoticeKind.CHILD_FILE_DUE, people, occasion=occasion)
