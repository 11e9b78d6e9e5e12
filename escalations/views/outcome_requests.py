"""The partnership asks an agency for the outcomes of its step 2-3 escalations (from the
dashboard), and the agency's lead answers with a summary (issue 15, point 8). Thin: the rules
are escalations.services.outcome_requests."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from escalations.forms.outcome_requests import AnswerOutcomesForm, AskForOutcomesForm
from escalations.models import OutcomeRequest
from escalations.services import ActionRefused
from escalations.services import outcome_requests as service
from escalations.views.common import current_person
from policies.models import Partnership


@login_required
@never_cache
def ask(request: HttpRequest, slug: str) -> HttpResponse:
    """The business manager's page: the requests made, their answers, and a new one."""
    person = current_person(request)
    partnership = Partnership.objects.filter(slug=slug).first()
    if partnership is None or not service.may_see(person, partnership):
        raise Http404("No such page")
    may_ask = service.may_ask(person, partnership)
    agencies = partnership.agencies.order_by("name")
    form = AskForOutcomesForm(request.POST or None, agencies=agencies)
    if request.method == "POST" and not may_ask:
        raise Http404("No such page")
    if request.method == "POST" and form.is_valid():
        try:
            asked = service.ask_agency_for_outcomes(partnership, by=person, **form.cleaned_data)
        except ActionRefused as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Asked {asked.agency.name} for its outcomes")
            return redirect("outcome-requests", slug=slug)
    return render(
        request,
        "escalations/outcome_requests/ask.html",
        {
            "partnership": partnership,
            "form": form,
            "may_ask": may_ask,
            "stages": partnership.outcomes_on_request_stages,
            "requests": partnership.outcome_requests.select_related(
                "agency", "asked_by", "answered_by"
            ),
        },
    )


@login_required
@never_cache
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The agency's lead: what is asked, the escalations it covers (as they may see them),
    and the answer."""
    person = current_person(request)
    asked = get_object_or_404(
        OutcomeRequest.objects.select_related("partnership", "agency", "asked_by"), pk=pk
    )
    if not service.may_answer(person, asked):
        raise Http404("No such request")
    form = AnswerOutcomesForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service.answer_outcome_request(asked.pk, by=person, answer=form.cleaned_data["answer"])
        except ActionRefused as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Your answer was sent to {asked.partnership.name}")
            return redirect("agency-escalations")
    return render(
        request,
        "escalations/outcome_requests/answer.html",
        {
            "asked": asked,
            "form": form,
            "escalations": list(service.escalations_asked_about(asked, request.user)),
        },
    )
