"""Download the record, live or as a frozen copy. Every escalation is reached through
visible_to(request.user): others' records answer 404, like missing ones."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit import log as audit_log
from audit.models import AuditEntry
from escalations.models import Escalation
from escalations.record import engine, services
from escalations.record.render import render_record_pdf, with_record

logger = logging.getLogger(__name__)


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # ASVS 14.3.2: no copy of a child's record left in a browser or proxy cache.
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
@never_cache
@login_required
def record_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    escalation = get_object_or_404(
        with_record(Escalation.objects.visible_to(request.user)), reference=reference
    )
    try:
        pdf = render_record_pdf(escalation)
    except engine.RenderError:
        logger.exception("record: could not render %s", reference)
        return HttpResponse(
            "The record could not be produced just now. Try again in a minute; if it keeps "
            "failing, tell your partnership administrator.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    audit_log.record(
        request, kind=AuditEntry.Kind.DOWNLOAD, what="record PDF", escalation=escalation
    )
    return pdf_response(pdf, f"{escalation.reference}-record.pdf")


@require_GET
@never_cache
@login_required
def copy_pdf(request: HttpRequest, reference: str, version: int) -> HttpResponse:
    visible = Escalation.objects.visible_to(request.user)
    escalation = get_object_or_404(visible, reference=reference)
    copy = next((c for c in services.record_copies_for(escalation) if c.version == version), None)
    if copy is None:
        raise Http404("No such copy of the record.")
    try:
        data = services.read_copy(copy)
    except services.RecordCopyDamaged:
        logger.critical("record: %s does not match its SHA-256", copy)
        return HttpResponse(
            "This copy of the record does not match the one frozen and cannot be given out. "
            "The partnership administrator has been alerted.",
            status=500,
            content_type="text/plain; charset=utf-8",
        )
    audit_log.record(
        request,
        kind=AuditEntry.Kind.DOWNLOAD,
        what=f"record PDF copy v{version}",
        escalation=escalation,
    )
    return pdf_response(data, f"{escalation.reference}-record-v{version}.pdf")


@require_GET
@never_cache
@login_required
def copies(request: HttpRequest, reference: str) -> HttpResponse:
    escalation = get_object_or_404(
        Escalation.objects.visible_to(request.user).select_related("partnership"),
        reference=reference,
    )
    audit_log.record_read(request, escalation, "record copies list")
    return render(
        request,
        "record/copies.html",
        {"escalation": escalation, "copies": services.record_copies_for(escalation)},
    )
