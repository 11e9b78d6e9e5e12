"""What a partnership administrator keeps besides people: its agencies, its closure days and
the directory's entries (SPEC section 2: "maintains agencies, people, ladders, closure days").
Each change is audited with what it was before and after."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from cases.models import Agency, Sector
from escalations import deadlines
from people.audit import audited
from people.scope import Can, Refused, Scope
from policies.models import ClosureDay, DirectoryEntry

AGENCY_FIELDS = {
    "name": "Name",
    "sector": "Sector",
    "safeguarding_contact_name": "Safeguarding contact",
    "safeguarding_contact_phone": "Safeguarding contact phone",
    "safeguarding_contact_email": "Safeguarding contact email",
}


def _shown(field: str, value: str) -> str:
    return Sector(value).label if field == "sector" and value else value


def save_agency(
    agency: Agency | None, *, scope: Scope, values: dict, by, request=None
) -> tuple[Agency, bool]:
    """Add an agency to the scope's partnership, or change one of its agencies (one shared
    with another partnership changes for both: both see the audit entry). Returns the agency
    and whether anything changed."""
    scope.require(Can.AGENCIES)
    with transaction.atomic():
        if agency is None:
            agency = Agency()
            before = dict.fromkeys(AGENCY_FIELDS, "")
        else:
            agency = Agency.objects.select_for_update().get(pk=agency.pk)
            if agency.pk not in scope.agency_ids:
                raise Refused("That agency is not one of your partnership's.")
            before = {f: getattr(agency, f) for f in AGENCY_FIELDS}
        for f in AGENCY_FIELDS:
            setattr(agency, f, (values.get(f) or "").strip())
        changes = [
            (label, _shown(f, before[f]), _shown(f, getattr(agency, f)))
            for f, label in AGENCY_FIELDS.items()
            if before[f] != getattr(agency, f)
        ]
        if not changes:
            return agency, False
        adding = agency.pk is None
        try:
            with transaction.atomic():
                agency.save()
        except IntegrityError as exc:
            raise Refused(
                f"An agency called “{agency.name}” is already in the portal. Choose another "
                "name; if it is the same organisation as another partnership's, ask the "
                "portal's support to share it with yours."
            ) from exc
        if adding:
            agency.partnerships.add(scope.partnership)
        audited(
            by=by,
            what=f"Agency {'added' if adding else 'changed'}: {agency.name}",
            object_type="agency",
            object_id=agency.pk,
            partnership_id=scope.audit_partnership_id(),
            agency_ids=[agency.pk],
            changes=changes,
            request=request,
        )
    return agency, True


def add_closure_day(*, scope: Scope, day: date, reason: str, by, request=None) -> int:
    """A day the partnership is closed; running deadlines move (escalations.deadlines)."""
    scope.require(Can.CALENDAR)
    partnership = scope.partnership
    with transaction.atomic():
        if ClosureDay.objects.filter(partnership=partnership, date=day).exists():
            raise Refused(f"{_day(day)} is already a closure day.")
        closure, moved = deadlines.add_closure_day(partnership, day, by=by.user, reason=reason)
        audited(
            by=by,
            what=f"Closure day added: {_day(day)}",
            object_type="closure day",
            object_id=closure.pk,
            partnership_id=partnership.pk,
            changes=[
                ("Closure day", "", f"{_day(day)} {closure.reason}".strip()),
                ("Running deadlines moved", "", str(moved)),
            ],
            request=request,
        )
    return moved


def remove_closure_day(closure: ClosureDay, *, scope: Scope, by, request=None) -> int:
    scope.require(Can.CALENDAR)
    if closure.partnership_id != scope.partnership.pk:
        raise Refused("That is not one of your partnership's closure days.")
    closure.partnership = scope.partnership  # so the caller's partnership sees the change
    with transaction.atomic():
        words = f"{_day(closure.date)} {closure.reason}".strip()
        pk = closure.pk
        moved = deadlines.remove_closure_day(closure, by=by.user)
        audited(
            by=by,
            what=f"Closure day removed: {_day(closure.date)}",
            object_type="closure day",
            object_id=pk,
            partnership_id=scope.partnership.pk,
            changes=[("Closure day", words, ""), ("Running deadlines moved", "", str(moved))],
            request=request,
        )
    return moved


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


DIRECTORY_FIELDS = {"agency_name": "Agency", "role": "Role", "job_title": "Job title"}


def local_entry(entry: DirectoryEntry) -> bool:
    """Entries loaded from a policy's own table stay as the policy has them (load_policies
    would put them back); the partnership's own entries are the administrator's to change."""
    return not entry.source.endswith(".yaml")


def save_directory_entry(
    entry: DirectoryEntry | None, *, scope: Scope, values: dict, by, request=None
) -> DirectoryEntry:
    scope.require(Can.DIRECTORY)
    with transaction.atomic():
        if entry is None:
            entry = DirectoryEntry(partnership=scope.partnership, source="")
            before = dict.fromkeys(DIRECTORY_FIELDS, "")
        else:
            entry = DirectoryEntry.objects.select_for_update().get(pk=entry.pk)
            _check_local(entry, scope)
            before = {f: getattr(entry, f) for f in DIRECTORY_FIELDS}
        for f in DIRECTORY_FIELDS:
            setattr(entry, f, (values.get(f) or "").strip())
        changes = [
            (label, before[f], getattr(entry, f))
            for f, label in DIRECTORY_FIELDS.items()
            if before[f] != getattr(entry, f)
        ]
        if changes:
            adding = entry.pk is None
            entry.save()
            audited(
                by=by,
                what=f"Directory entry {'added' if adding else 'changed'}: {entry.agency_name}",
                object_type="directory entry",
                object_id=entry.pk,
                partnership_id=scope.partnership.pk,
                changes=changes,
                request=request,
            )
    return entry


def remove_directory_entry(entry: DirectoryEntry, *, scope: Scope, by, request=None) -> None:
    scope.require(Can.DIRECTORY)
    with transaction.atomic():
        entry = DirectoryEntry.objects.select_for_update().get(pk=entry.pk)
        _check_local(entry, scope)
        changes = [(label, getattr(entry, f), "") for f, label in DIRECTORY_FIELDS.items()]
        pk = entry.pk
        entry.delete()
        audited(
            by=by,
            what=f"Directory entry removed: {entry.agency_name}",
            object_type="directory entry",
            object_id=pk,
            partnership_id=scope.partnership.pk,
            changes=changes,
            request=request,
        )


def _check_local(entry: DirectoryEntry, scope: Scope) -> None:
    if entry.partnership_id != scope.partnership.pk:
        raise Refused("That is not one of your partnership's directory entries.")
    if not local_entry(entry):
        raise Refused(
            f"This entry comes from the policy's own table ({entry.source}): it stays as the "
            "policy has it."
        )
