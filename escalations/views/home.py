"""My escalations: what I hold (most urgent first), challenges to my agency waiting for a
response (soonest due first), what I raised, my agency's, my drafts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from audit.log import note_reads
from escalations import listing, presenters
from escalations.listing import Source, tallies
from escalations.models import (
    ACTIVE_STATES,
    LIVE_STATES,
    ConferenceReport,
    DraftChallenge,
    State,
    awaiting_approval_of,
)
from escalations.services import outcome_requests
from escalations.views.common import current_person, visible_escalations
from policies.models import AGENCY_OVERSIGHT_ROLES, Role

# What a person holds: few, so sorted as read; the reference breaks ties.
MOST_URGENT_FIRST = (F("overdue").desc(), F("due_at").asc(nulls_last=True), F("reference").asc())


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    person = current_person(request)
    visible = visible_escalations(request)
    # Challenges to the person's agency that they may see (named in, holding, or overseeing),
    # soonest due first: what the other side is waiting for them to answer.
    challenged = Source.of(
        visible.filter(receiving_agency__in=person.agency_ids(), state__in=ACTIVE_STATES).exclude(
            raised_by=person
        )
    )
    lists = {
        "held": Source.of(visible.filter(holder=person, state__in=LIVE_STATES), MOST_URGENT_FIRST),
        "raised": Source.of(
            visible.filter(raised_by=person).exclude(state=State.DRAFT), ["-raised_on", "-pk"]
        ),
        "challenged": challenged,
    }
    oversight = person.agency_ids(AGENCY_OVERSIGHT_ROLES)
    if oversight:
        agency = Source.either_side(visible.filter(state__in=ACTIVE_STATES), oversight)
        lists["agency"] = agency
        # Everything waiting for their approval is among their agency's active escalations
        # (leads and the managers who stand in for one oversee the raising agency).
        lists["awaiting"] = agency.filter(awaiting_approval_of(person))
    # Every list's size in one query, each counted only up to listing.COUNT_CAP (issue 18:
    # lists within 10 queries for anyone, and as fast with any length of history).
    counts = tallies(lists)
    pages = {
        name: listing.page(
            request, lists[name], visible.with_summary(), param=name, tally=counts[name]
        )
        for name in ("held", "raised", "challenged", "agency")
        if name in lists
    }
    held, raised, challenged = pages["held"], pages["raised"], pages["challenged"]
    agency = pages.get("agency")
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
