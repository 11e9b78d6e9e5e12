"""My escalations: what I hold (most urgent first), challenges to my agency waiting for a
response (soonest due first), what I raised, my agency's, my drafts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from audit.log import note_reads
from escalations import presenters
from escalations.models import (
    ACTIVE_STATES,
    ConferenceReport,
    DraftChallenge,
    State,
    awaiting_approval_of,
)
from escalations.views.common import current_person, paginate, visible_escalations
from policies.models import AGENCY_OVERSIGHT_ROLES, Role

MOST_URGENT_FIRST = (F("overdue").desc(), F("due_at").asc(nulls_last=True), "reference")


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    visible = visible_escalations(request).with_summary()
    held = paginate(request, visible.held_by(person).order_by(*MOST_URGENT_FIRST), param="held")
    raised = paginate(
        request,
        visible.filter(raised_by=person).exclude(state=State.DRAFT).order_by("-raised_on"),
        param="raised",
    )
    # Challenges to the person's agency that they may see (named in, holding, or overseeing),
    # soonest due first: what the other side is waiting for them to answer.
    challenged = paginate(
        request,
        visible.filter(receiving_agency__in=person.agency_ids(), state__in=ACTIVE_STATES)
        .exclude(raised_by=person)
        .order_by(F("due_at").asc(nulls_last=True), "reference"),
        param="challenged",
    )
    oversight = person.agency_ids(AGENCY_OVERSIGHT_ROLES)
    agency = None
    awaiting_approval = 0
    if oversight:
        theirs = visible.filter(state__in=ACTIVE_STATES).filter(
            Q(raising_agency__in=oversight) | Q(receiving_agency__in=oversight)
        )
        # Everything waiting for their approval is among their agency's active escalations
        # (leads and the managers who stand in for one oversee the raising agency): one query
        # counts both, in place of the page's own count.
        counts = theirs.aggregate(
            total=Count("pk"), awaiting=Count("pk", filter=awaiting_approval_of(person))
        )
        awaiting_approval = counts["awaiting"]
        agency = paginate(
            request, theirs.order_by(*MOST_URGENT_FIRST), param="agency", count=counts["total"]
        )
    lead_agencies = person.agency_ids({Role.SAFEGUARDING_LEAD})
    context = {
        "held": held,
        "held_rows": presenters.rows(held),
        "challenged": challenged,
        "challenged_rows": presenters.rows(challenged),
        "raised": raised,
        "raised_rows": presenters.rows(raised),
        "agency": agency,
        "agency_rows": presenters.rows(agency) if agency is not None else [],
        "drafts": list(DraftChallenge.objects.owned_by(person).unfinished()[:20]),
        "awaiting_approval": awaiting_approval,
        "conference_waiting": ConferenceReport.objects.visible_to(request.user)
        .filter(agency__in=lead_agencies)
        .awaiting_response()
        .count()
        if lead_agencies
        else 0,
    }
    shown = [*held, *challenged, *raised, *(agency or [])]
    note_reads(request, shown, "home page list")
    return render(request, "escalations/home.html", context)
