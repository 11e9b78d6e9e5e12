"""The partnership asks an agency for the outcomes of its escalations at the steps its policy
names, and the agency's lead answers with a summary (issue 15, point 8; Pan-Cheshire, Context:
"may request from time to time information from its partners about the outcomes of
escalations at Steps 2 and 3"). The summary is for the partnership's dashboard, which holds no
child details (SPEC section 3): one that names a child of the escalations it covers is
refused, saying which name."""

from __future__ import annotations

import re
from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.limits import ACCOUNT, REASON
from cases.models import Agency, Person
from escalations.models import PARTNERSHIP_FIGURES_ROLES, Escalation, OutcomeRequest, State
from escalations.services.acting import ActionRefused, not_future, require_text
from policies.models import Partnership, Role

ASKERS = (Role.BUSINESS_MANAGER,)
ANSWERERS = (Role.SAFEGUARDING_LEAD, Role.SENIOR_MANAGER)


def may_see(person: Person, partnership: Partnership) -> bool:
    """The partnership's dashboard roles see the requests and their answers."""
    return bool(partnership.outcomes_on_request_stages) and any(
        m.partnership_id == partnership.pk and m.role in PARTNERSHIP_FIGURES_ROLES
        for m in person.memberships.all()
    )


def answered_for(partnership: Partnership) -> QuerySet[OutcomeRequest]:
    return partnership.outcome_requests.filter(answered_at__isnull=False).select_related(
        "agency", "answered_by"
    )


def may_ask(person: Person, partnership: Partnership) -> bool:
    return bool(partnership.outcomes_on_request_stages) and any(
        m.partnership_id == partnership.pk and m.role in ASKERS for m in person.memberships.all()
    )


def may_answer(person: Person, request: OutcomeRequest) -> bool:
    return person.user.is_active and any(
        m.agency_id == request.agency_id and m.role in ANSWERERS for m in person.memberships.all()
    )


def ask_agency_for_outcomes(
    partnership: Partnership, *, by: Person, agency: Agency, since: date, question: str
) -> OutcomeRequest:
    """The business manager asks one agency for the outcomes of its escalations that stopped
    at the steps the policy names, raised since a day."""
    if not may_ask(by, partnership):
        raise ActionRefused(
            "Only the partnership's business manager may ask, where its policy provides for it."
        )
    question = require_text(question, "what you ask the agency")
    if len(question) > REASON:
        raise ActionRefused(f"What you ask must be {REASON:,} characters or fewer.")
    not_future(since, "The day the escalations were raised since")
    if not partnership.agencies.filter(pk=agency.pk).exists():
        raise ActionRefused(f"{agency.name} is not one of {partnership.name}'s agencies.")
    return OutcomeRequest.objects.create(
        partnership=partnership, agency=agency, asked_by=by, since=since, question=question
    )


def escalations_asked_about(request: OutcomeRequest, user) -> QuerySet[Escalation]:
    """The agency's escalations (raised by it or against it) in the partnership, raised since
    the day asked, that went no higher than the steps the policy names, as the user may see
    them."""
    return (
        Escalation.objects.visible_to(user)
        .filter(
            Q(raising_agency_id=request.agency_id) | Q(receiving_agency_id=request.agency_id),
            partnership_id=request.partnership_id,
            raised_on__date__gte=request.since,
            highest_stage_number__in=request.partnership.outcomes_on_request_stages,
        )
        .exclude(state=State.DRAFT)
        .select_related("stage", "child", "raising_agency", "receiving_agency")
        .order_by("raised_on")
    )


def _names_a_child(text: str, escalations) -> str:
    for esc in escalations:
        for name in (esc.child.given_names, esc.child.family_name):
            for part in (name or "").split():
                if len(part) > 1 and re.search(rf"\b{re.escape(part)}\b", text, re.IGNORECASE):
                    return part
    return ""


def answer_outcome_request(pk: int, *, by: Person, answer: str) -> OutcomeRequest:
    """The agency's safeguarding lead (or senior manager) answers once, with a summary that
    names no child."""
    answer = require_text(answer, "the outcomes, as a summary")
    if len(answer) > ACCOUNT:
        raise ActionRefused(f"The summary must be {ACCOUNT:,} characters or fewer.")
    with transaction.atomic():
        request = (
            OutcomeRequest.objects.select_for_update()
            .select_related("partnership", "agency")
            .get(pk=pk)
        )
        if not may_answer(by, request):
            raise ActionRefused(
                f"Only {request.agency.name}'s safeguarding lead or senior manager may answer."
            )
        if request.answered_at is not None:
            raise ActionRefused("This request has been answered already; nothing was changed.")
        named = _names_a_child(answer, escalations_asked_about(request, by.user))
        if named:
            raise ActionRefused(
                f"The summary names a child or family of these escalations (“{named}”). The "
                "partnership's dashboard holds no child details: describe the outcomes without "
                "names, dates of birth or addresses."
            )
        request.answer = answer
        request.answered_by = by
        request.answered_at = timezone.now()
        request.save()
    return request


def open_requests_for(person: Person) -> QuerySet[OutcomeRequest]:
    """Requests to the agencies the person answers for, not yet answered."""
    agencies = [m.agency_id for m in person.memberships.all() if m.role in ANSWERERS]
    return OutcomeRequest.objects.filter(agency_id__in=agencies, answered_at__isnull=True)
