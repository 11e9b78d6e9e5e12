"""Every API read is written to the audit log like a page read: which token (for which agency),
when, what, about which escalation, from which address, with the request id."""

from __future__ import annotations

from audit.log import client_address, request_id
from audit.models import AuditEntry


def entry(request, *, kind: str, what: str, escalation=None, agency_ids=()) -> AuditEntry:
    """The entry, unsaved. request is DRF's; the entry has no portal user (a token is not a
    person): its username names the token and its agency."""
    http = getattr(request, "_request", request)
    principal = request.user
    ids = list(agency_ids) or (
        [escalation.raising_agency_id, escalation.receiving_agency_id] if escalation else []
    )
    if not ids:
        ids = [principal.agency.pk]
    return AuditEntry(
        user=None,
        username=principal.get_username()[:150],
        kind=kind,
        what=what,
        object_type="escalation" if escalation is not None else "",
        object_id=str(escalation.pk) if escalation is not None else "",
        reference=getattr(escalation, "reference", "") or "",
        partnership_id=escalation.partnership_id if escalation is not None else None,
        agency_ids=ids,
        address=client_address(http),
        request_id=request_id(http),
        path=http.path[:300],
    )


def record(request, **details) -> AuditEntry:
    made = entry(request, **details)
    made.save()
    return made


def record_read(request, escalation, what: str) -> AuditEntry:
    return record(request, kind=AuditEntry.Kind.READ, what=f"API: {what}", escalation=escalation)


def record_reads(request, escalations, what: str) -> list[AuditEntry]:
    """One entry per escalation an answer names: a list identifies children too."""
    return AuditEntry.objects.bulk_create(
        [
            entry(request, kind=AuditEntry.Kind.READ, what=f"API: {what}", escalation=escalation)
            for escalation in escalations
        ]
    )
