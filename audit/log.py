"""Write audit entries. Call from views, exports and PDFs after access is decided."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest

import security.client
from audit.models import AuditEntry
from escalation_portal import request_ids


def client_address(request: HttpRequest) -> str | None:
    # The same reading as lockout: X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says.
    return security.client.client_address(request)


def request_id(request: HttpRequest) -> str:
    # The id in the response header and on the log lines (escalation_portal.request_ids).
    return request_ids.for_request(request)


def record(request: HttpRequest | None, **details) -> AuditEntry:
    """One entry: who, when (UTC), what, from which address, request id; for an
    administrative change, each field's label, value before and value after."""
    entry = entry_for(request, **details)
    entry.save()
    return entry


def entry_for(
    request: HttpRequest | None,
    *,
    kind: str,
    what: str,
    escalation=None,
    object_type: str = "",
    object_id: str = "",
    partnership_id: int | None = None,
    agency_ids: Iterable[int] = (),
    user=None,
    changes: list[tuple[str, str, str]] | None = None,
) -> AuditEntry:
    """The entry record() writes, unsaved: for writing many at once (bulk_create)."""
    user = user or (getattr(request, "user", None) if request else None)
    if user is not None and not user.is_authenticated:
        user = None
    if escalation is not None:
        object_type = object_type or "escalation"
        object_id = object_id or str(escalation.pk)
        partnership_id = partnership_id or escalation.partnership_id
        agency_ids = agency_ids or [escalation.raising_agency_id, escalation.receiving_agency_id]
    return AuditEntry(
        user=user,
        username=user.get_username() if user else "",
        kind=kind,
        what=what,
        object_type=object_type,
        object_id=object_id,
        reference=getattr(escalation, "reference", "") or "",
        partnership_id=partnership_id,
        agency_ids=list(agency_ids),
        address=client_address(request) if request else None,
        request_id=request_id(request) if request else "",
        path=request.path[:300] if request else "",
        changes=[list(change) for change in changes] if changes else None,
    )


def record_read(request: HttpRequest, escalation, what: str) -> AuditEntry:
    request.__dict__.setdefault("_audit_recorded", set()).add(escalation.pk)
    return record(request, kind=AuditEntry.Kind.READ, what=what, escalation=escalation)


def record_export(
    request: HttpRequest, what: str, *, partnership_id: int | None = None, rows: int = 0
) -> AuditEntry:
    return record(
        request,
        kind=AuditEntry.Kind.EXPORT,
        what=f"{what} ({rows} rows)",
        partnership_id=partnership_id,
    )


def note_reads(request: HttpRequest, escalations: Iterable, what: str) -> None:
    """Note that this response shows these escalations (a child's name, the details): one read
    entry each is written once the response is known to be shown (ReadAuditMiddleware), so a
    page that fails writes none and a page that shows one twice writes one."""
    pending = request.__dict__.setdefault("_audit_reads", {})
    for escalation in escalations:
        if escalation is not None and escalation.pk is not None:
            pending.setdefault(escalation.pk, (escalation, what))


def write_noted_reads(request: HttpRequest, status_code: int) -> int:
    """The read entries note_reads asked for, in one insert, for a response that shows them;
    none for an escalation this request already recorded itself (record_read)."""
    pending = request.__dict__.pop("_audit_reads", None)
    if not pending or status_code != 200:
        return 0
    done = request.__dict__.get("_audit_recorded", set())
    rows = [
        entry_for(request, kind=AuditEntry.Kind.READ, what=what, escalation=escalation)
        for pk, (escalation, what) in pending.items()
        if pk not in done
    ]
    AuditEntry.objects.bulk_create(rows)
    return len(rows)
