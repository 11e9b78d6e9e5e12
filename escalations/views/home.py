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
    LIVE_STATES,
    ConferenceReport,
    DraftChallenge,
    State,
    awaiting_approval_of,
)
from escalations.services import outcome_requests
from escalations.views.common import current_person, paginate, visible_escalations
from policies.models import AGENCY_OVERSIGHT_ROLES, Role

MOST_URGENT_FIRST = (F("overdue").desc(), F("due_at").asc(nulls_last=True), "reference")


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    visible = visible_escalations(request).with_summary()
    held_q = Q(holder=person, state__in=LIVE_STATES)
    raised_q = Q(raised_by=person) & ~Q(state=State.DRAFT)
    # Challenges to the person's agency that they may see (named in, holding, or overseeing),
    # soonest due first: what the other side is waiting for them to answer.
    challenged_q = Q(receiving_agency__in=person.agency_ids(), state__in=ACTIVE_STATES) & ~Q(
        raised_by=person
    )
    oversight = person.agency_ids(AGENCY_OVERSIGHT_ROLES)
    agency_q = Q(state__in=ACTIVE_STATES) & (
        Q(raising_agency__in=oversight) | Q(receiving_agency__in=oversight)
    )
    # Every list's size in one query, in place of a count for each (issue 18: lists within
    # 10 queries for anyone). Everything waiting for their approval is among their agency's
    # active escalations (leads and the managers who stand in for one oversee the raising
    # agency), so it is counted here too.
    sizes = {"held": Count("pk", filter=held_q), "raised": Count("pk", filter=raised_q)}
    sizes["challenged"] = Count("pk", filter=challenged_q)
    if oversight:
        sizes["agency"] = Count("pk", filter=agency_q)
        sizes["awaiting"] = Count("pk", filter=agency_q & awaiting_approval_of(person))
    counts = visible.order_by().aggregate(**sizes)

    def page(condition: Q, order, param: str):
        return paginate(
            request, visible.filter(condition).order_by(*order), param=param, count=counts[param]
        )

    held = page(held_q, MOST_URGENT_FIRST, "held")
    raised = page(raised_q, ["-raised_on"], "raised")
    challenged = page(challenged_q, [F("due_at").asc(nulls_last=True), "reference"], "challenged")
    agency = page(agency_q, MOST_URGENT_FIRST, "agency") if oversight else None
    awaiting_approval = counts["awaiting"] if oversight else 0
    shown = [*held, *challenged, *raised, *(agency or [])]
    # The closure days of every list's partnerships, read once for the page.
    calendars = presenters.calendars_for(e.partnership_id for e in shown)
    lead_agencies = person.agency_ids({Role.SAFEGUARDING_LEAD})
    context = {
        "held": held,
        "held_rows": presenters.rows(held, calendars=calendars),
        "challenged": challenged,
        "challenged_rows": presenters.rows(challenged, calendars=calendars),
        "raised": raised,
        "raised_rows": presenters.rows(raised, calendars=calendars),
        "agency": agency,
        "agency_rows": presenters.rows(agency, calendars=calendars) if agency is not None else [],
        "drafts": list(DraftChallenge.objects.owned_by(person).unfinished()[:20]),
        "awaiting_approval": awaiting_approval,
        "conference_waiting": ConferenceReport.objects.visible_to(request.user)
        .filter(agency__in=lead_agencies)
        .awaiting_response()
        .count()
        if lead_agencies
        else 0,
        # The partnership's requests for the outcomes of the agency's escalations, still to
        # answer (issue 15, point 8), where the person answers for an agency.
        "outcome_requests": list(
            outcome_requests.open_requests_for(person).select_related("partnership", "agency")
        )
        if oversight
        else [],
    }
    note_reads(request, shown, "home page list")
    return render(request, "escalations/home.html", context)
