"""For safeguarding leads and managers: the approval queue and the agency's escalations."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from audit.log import note_reads
from cases.models import Agency
from escalations import listing, presenters
from escalations.approvals import may_open_queue
from escalations.forms.lead import AgencyFilterForm
from escalations.listing import Source, tallies
from escalations.models import State
from escalations.views.common import current_person, paginate, visible_escalations
from policies.models import AGENCY_OVERSIGHT_ROLES, Partnership, current_stages


@login_required
@never_cache
def approvals(request: HttpRequest) -> HttpResponse:
    """Escalations waiting for this person's decision, oldest ask first: as an approver of the
    raising agency, or as a stand-in while it has none (escalations.approvals)."""
    person = current_person(request)
    if not may_open_queue(person):
        raise PermissionDenied
    queryset = (
        visible_escalations(request)
        .with_summary()
        .select_related("pending_stage", "approval_requested_by")
        .awaiting_approval_of(person)
        .order_by("updated_on")
    )
    page = paginate(request, queryset)
    items = list(page)
    note_reads(request, items, "approvals list")
    return render(
        request,
        "escalations/approvals.html",
        {"page": page, "items": zip(items, presenters.rows(items), strict=True)},
    )


@login_required
@never_cache
def agency_escalations(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    agency_ids = person.agency_ids(AGENCY_OVERSIGHT_ROLES)
    if not agency_ids:
        raise PermissionDenied
    others = list(
        Agency.objects.filter(partnerships__agencies__in=agency_ids)
        .exclude(pk__in=agency_ids)
        .distinct()
        .order_by("name")
    )
    visible = visible_escalations(request)
    queryset = visible.exclude(state=State.DRAFT)
    stages = list(current_stages(Partnership.objects.filter(agencies__in=agency_ids)))
    form = AgencyFilterForm(request.GET or None, agencies=others, stages=stages)
    if form.is_bound and form.is_valid():
        queryset = form.apply(queryset)
    elif form.is_bound:
        queryset = queryset.none()
    # Raised by the agency or with it, read side by side and counted up to a cap, so the page
    # costs the same whatever the agency's history (escalations.listing).
    source = Source.either_side(queryset, agency_ids)
    page = listing.page(
        request, source, visible.with_summary(), tally=tallies({"page": source})["page"]
    )
    filters = {k: v for k, v in request.GET.items() if k != "page" and v}
    note_reads(request, page, "agency escalations list")
    return render(
        request,
        "escalations/agency_escalations.html",
        {
            "form": form,
            "page": page,
            "rows": presenters.rows(page),
            "query": urlencode(filters) + "&" if filters else "",
            # From the memberships already loaded with the person: no query.
            "agencies": sorted(
                {m.agency for m in person.memberships.all() if m.agency_id in agency_ids},
                key=lambda agency: agency.name,
            ),
        },
    )
