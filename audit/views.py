"""The audit log for those who oversee it: safeguarding leads for their agency's escalations,
partnership administrators for their partnership. Everyone else gets 404."""

from __future__ import annotations

import csv
import json
from datetime import UTC

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from audit.forms import AuditFilterForm, SubjectAccessForm
from audit.log import record_export
from audit.models import AuditEntry, oversees_audit
from cases.people import person_for
from escalations.models import Escalation
from security.subject_access import escalations_about, may_answer_subject_access
from security.subject_access import export as subject_access_export

PAGE_SIZE = 50
CSV_COLUMNS = [
    "at_utc",
    "username",
    "kind",
    "what",
    "reference",
    "object_type",
    "object_id",
    "address",
    "request_id",
    "path",
    "changes",
]


def _entries_for(request: HttpRequest):
    """The entries this viewer oversees (AuditEntry.objects.visible_to), less those about an
    escalation they may not open: a partnership administrator oversees the partnership's log
    but sees an escalation only as SPEC section 3 allows, so its reference, and a search by
    it, must not show it exists. The page, the CSV and the search all read from here."""
    person = person_for(request.user)
    if not oversees_audit(person):
        raise Http404
    openable = Escalation.objects.visible_to(request.user)
    references = openable.exclude(reference=None).values("reference")
    drafts = openable.filter(reference=None).annotate(key=Cast("pk", CharField())).values("key")
    return AuditEntry.objects.visible_to(person).exclude(
        (~Q(reference="") & ~Q(reference__in=references))
        | Q(reference="", object_type="escalation", partnership_id__isnull=False)
        & ~Q(object_id__in=drafts)
    )


def changes_in_words(changes) -> str:
    """'Role: Practitioner -> Line manager; Job title: (none) -> Team Manager'."""
    return "; ".join(
        f"{label}: {before or '(none)'} -> {after or '(none)'}"
        for label, before, after in changes or []
    )


def utc(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@login_required
@require_GET
def entries(request: HttpRequest) -> HttpResponse:
    scope = _entries_for(request)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "audit/entries.html", {"form": form, "page": None}, status=400)
    shown = form.filter(scope) if form.is_bound else scope
    page = Paginator(shown.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(utc(entry.at), entry) for entry in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/entries.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


def _cell(value) -> str:
    # A spreadsheet runs a cell that starts with these as a formula (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    scope = _entries_for(request)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "audit/entries.html", {"form": form, "page": None}, status=400)
    shown = list((form.filter(scope) if form.is_bound else scope).order_by("-at", "-id"))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for entry in shown:
        writer.writerow(
            _cell(v)
            for v in (
                entry.at.astimezone(UTC).isoformat(),
                entry.username,
                entry.kind,
                entry.what,
                entry.reference,
                entry.object_type,
                entry.object_id,
                entry.address,
                entry.request_id,
                entry.path,
                changes_in_words(entry.changes),
            )
        )
    record_export(request, "audit log CSV", rows=len(shown))
    return response


@login_required
@require_http_methods(["GET", "POST"])
def subject_access(request: HttpRequest) -> HttpResponse:
    """A subject access request about a child, answered for what this person may see
    (security.subject_access, ADR 0023): partnership administrators and agency safeguarding
    leads; everyone else gets 404."""
    person = person_for(request.user)
    if not may_answer_subject_access(person):
        raise Http404
    form = SubjectAccessForm(
        request.POST or None, escalations=Escalation.objects.visible_to(request.user)
    )
    if request.method == "POST" and form.is_valid():
        escalation = form.cleaned_data["reference"]
        child = escalation.child
        data = subject_access_export(child, escalations_about(child, request.user), request=request)
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="subject-access-{escalation.reference}.json"'
        )
        return response
    return render(
        request,
        "audit/subject_access.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )
