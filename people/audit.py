"""Every administrative change goes to the append-only audit log (issue 19, point 6): who, what,
and each field before and after. Written in the change's own transaction, so there is never a
change without its entry."""

from __future__ import annotations

from collections.abc import Iterable

from audit.log import entry_for
from audit.models import MAX_AGENCIES_PER_ENTRY, AuditEntry
from cases.models import Membership, Person

NONE = ""


def audited(**details) -> None:
    """One entry (more only where it names more agencies than an entry holds): the
    administrators of every partnership of those agencies see it, and their leads."""
    for entry in entries(**details):
        entry.save()


def entries(
    *,
    by: Person | None,
    what: str,
    object_type: str,
    object_id: object = "",
    partnership_id: int | None = None,
    agency_ids: Iterable[int] = (),
    changes: list[tuple[str, str, str]] | None = None,
    request=None,
) -> list[AuditEntry]:
    """The entries audited() writes, unsaved (a bulk import writes them all at once)."""
    agencies = sorted({a for a in agency_ids if a})
    chunks = [
        agencies[i : i + MAX_AGENCIES_PER_ENTRY]
        for i in range(0, len(agencies), MAX_AGENCIES_PER_ENTRY)
    ] or [[]]
    return [
        entry_for(
            request,
            kind=AuditEntry.Kind.CHANGE,
            what=what[:200],
            object_type=object_type,
            object_id=str(object_id),
            partnership_id=partnership_id,
            agency_ids=chunk,
            user=by.user if by is not None else None,
            changes=changes,
        )
        for chunk in chunks
    ]


def role_words(membership) -> str:
    """'Practitioner at Meadow School (Class Teacher)', for a Membership or an InvitedRole."""
    where = membership.agency or membership.partnership
    return f"{membership.get_role_display()} at {where} ({membership.job_title})"


def roles_words(memberships: Iterable[Membership]) -> str:
    return "; ".join(role_words(m) for m in memberships) or NONE


def agencies_of(person: Person) -> list[int]:
    return [m.agency_id for m in person.memberships.all() if m.agency_id]
