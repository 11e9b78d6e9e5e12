"""Child protection conference concerns, in the partnerships whose ladder file gives a route for
them (Kirklees Appendix 3; docs/adr/0012-conference-concerns-as-ladder-data.md).

A conference chair (a member of an agency in a sector the route names: Role has no "conference
chair", see docs/adr/0005-conference-chairs.md) records an agency's non-attendance or a
missing or late report; the agency's people in the route's roles respond. Seen only by the
chair who recorded it and the named agency's safeguarding leads and managers."""

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
from escalations.conference import services
from escalations.conference.forms import ConferenceConcernForm, ConferenceResponseForm
from escalations.models import ConferenceReport, NoticeKind
from escalations.views.common import current_person, paginate


@login_required
@never_cache
def index(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    reports = ConferenceReport.objects.visible_to(request.user).select_related(
        "agency", "recorded_by", "response"
    )
    page = paginate(request, reports)
    routes = services.routes_for(person)
    return render(
        request,
        "escalations/conference/index.html",
        {
            "page": page,
            "routes": routes,
            "recording": [route for route in routes if route.records(person)],
        },
    )


def _route(request: HttpRequest, person) -> services.ConferenceRoute | None:
    """The route the person records through: the only one, or the partnership they chose
    (?partnership=<slug>) where their agencies have several; None to ask them to choose."""
    routes = services.recording_routes(person)
    if not routes:
        raise PermissionDenied
    chosen = request.GET.get("partnership")
    if chosen is None and len(routes) == 1:
        return routes[0]
    route = next((r for r in routes if r.partnership.slug == chosen), None)
    if route is None and chosen is not None:
        raise Http404
    return route


@login_required
@never_cache
def new(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    route = _route(request, person)
    if route is None:
        return render(
            request,
            "escalations/conference/choose.html",
            {"routes": services.recording_routes(person)},
        )
    partnership = route.partnership
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
                messages.success(request, _sent_to(report, route))
                return redirect("conference-report", pk=report.pk)
    else:
        form = ConferenceConcernForm(
            agencies=agencies,
            initial={"chair_name": person.full_name, "meeting_on": timezone.localdate()},
        )
    return render(request, "escalations/conference/new.html", {"form": form, "route": route})


def _sent_to(report: ConferenceReport, route: services.ConferenceRoute) -> str:
    """Who the concern went to, as the chair is told it."""
    notices = list(report.notices.values_list("kind", "recipient__full_name"))
    names = ", ".join(sorted(name for _, name in notices))
    who = route.recipients_in_words
    if any(kind == NoticeKind.CONFERENCE_CONCERN for kind, _ in notices):
        return f"Sent to the {who} of {report.agency}: {names}"
    return f"{report.agency} has no {who} in the portal: sent to its managers, {names}"


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
        {
            "report": report,
            "form": form,
            "may_respond": may_respond or form.errors,
            "route": services.route_for(report.partnership),
        },
    )
