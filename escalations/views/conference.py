"""Kirklees child protection conference escalations (Appendix 3 of the KSCP protocol).

A conference chair (any member of a Kirklees children's social care agency: Role has no
"conference chair", see docs/adr/0005-conference-chairs.md) records an agency's
non-attendance or a missing or late report; the agency's safeguarding lead responds. Seen
only by the chair who recorded it and the named agency's safeguarding leads and managers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from audit.log import record
from audit.models import AuditEntry
from cases.models import Agency
from escalations import services
from escalations.conference import ConferenceReport
from escalations.forms.conference import ConferenceConcernForm, ConferenceResponseForm
from escalations.models import NoticeKind
from escalations.views.common import current_person, paginate
from policies.models import Partnership

PARTNERSHIP = "kirklees"


def _partnership() -> Partnership:
    partnership = Partnership.objects.filter(slug=PARTNERSHIP).first()
    if partnership is None:
        raise Http404
    return partnership


@login_required
@never_cache
def index(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    reports = ConferenceReport.objects.visible_to(request.user).select_related(
        "agency", "recorded_by", "response"
    )
    page = paginate(request, reports)
    partnership = Partnership.objects.filter(slug=PARTNERSHIP).first()
    return render(
        request,
        "escalations/conference/index.html",
        {
            "page": page,
            "may_record": partnership is not None
            and services.may_record_conference_concern(person, partnership),
        },
    )


@login_required
@never_cache
def new(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    partnership = _partnership()
    if not services.may_record_conference_concern(person, partnership):
        raise PermissionDenied
    agencies = list(Agency.objects.filter(partnerships=partnership).order_by("name"))
    if request.method == "POST":
        form = ConferenceConcernForm(request.POST, agencies=agencies)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = services.record_conference_concern(
                    by=person,
                    partnership=partnership,
                    meeting_on=data["meeting_on"],
                    family_identifier=data["family_identifier"],
                    chair_name=data["chair_name"],
                    agency=form.agencies[data["agency"]],
                    agency_representative=data["agency_representative"],
                    reason=data["reason"],
                    details=data["details"],
                )
            except services.ActionRefused as refused:
                form.add_error(None, str(refused))
            else:
                record(
                    request,
                    kind=AuditEntry.Kind.CHANGE,
                    what="conference concern recorded",
                    object_type="conference_report",
                    object_id=str(report.pk),
                    partnership_id=partnership.pk,
                    agency_ids=[report.agency_id],
                )
                messages.success(request, _sent_to(report))
                return redirect("conference-report", pk=report.pk)
    else:
        form = ConferenceConcernForm(
            agencies=agencies,
            initial={"chair_name": person.full_name, "meeting_on": timezone.localdate()},
        )
    return render(request, "escalations/conference/new.html", {"form": form})


def _sent_to(report: ConferenceReport) -> str:
    """Who the concern went to, as the chair is told it."""
    notices = list(report.notices.values_list("kind", "recipient__full_name"))
    names = ", ".join(sorted(name for _, name in notices))
    if any(kind == NoticeKind.CONFERENCE_CONCERN for kind, _ in notices):
        return f"Sent to the safeguarding lead of {report.agency}: {names}"
    return f"{report.agency} has no safeguarding lead in the portal: sent to its managers, {names}"


def _visible_report(request: HttpRequest, pk: int) -> ConferenceReport:
    current_person(request)
    report = (
        ConferenceReport.objects.visible_to(request.user)
        .select_related("agency", "recorded_by", "partnership", "response__responded_by")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise Http404
    return report


@login_required
@never_cache
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = current_person(request)
    report = _visible_report(request, pk)
    record(
        request,
        kind=AuditEntry.Kind.READ,
        what="conference concern page",
        object_type="conference_report",
        object_id=str(report.pk),
        partnership_id=report.partnership_id,
        agency_ids=[report.agency_id],
    )
    has_response = hasattr(report, "response")
    may_respond = not has_response and services.may_respond_to_conference_concern(person, report)
    form = ConferenceResponseForm()
    if request.method == "POST":
        if not may_respond and not has_response:
            raise PermissionDenied
        form = ConferenceResponseForm(request.POST)
        if form.is_valid():
            try:
                services.respond_to_conference_concern(
                    report, by=person, summary=form.cleaned_data["summary"]
                )
            except services.ActionRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, "Response sent to the conference chair")
                return redirect("conference-report", pk=report.pk)
    return render(
        request,
        "escalations/conference/detail.html",
        {"report": report, "form": form, "may_respond": may_respond or form.errors},
    )
