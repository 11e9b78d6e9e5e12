"""Passing on a leaver's part in open escalations to someone in the same agency and role."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from escalations.models import Escalation
from people import leavers
from people.forms import handover_form
from people.scope import Can, Refused, Scope
from people.views.common import context, posted, scoped


def administered_escalations(request: HttpRequest, scope: Scope):
    """The escalations whose people this scope may reassign: every escalation of the
    partnership (its figures' scope; what identifies a child is shown only where visible_to
    lets the administrator see the record), or those to which the lead's agency is a party."""
    if scope.is_partnership:
        return Escalation.objects.for_partnership_figures(request.user, scope.partnership)
    return Escalation.objects.visible_to(request.user).filter(
        Q(raising_agency=scope.agency) | Q(receiving_agency=scope.agency)
    )


def _ours(scope: Scope, items: list) -> list:
    """A lead passes on only what a practitioner or line manager of their agency held."""
    if scope.is_partnership:
        return items
    return [i for i in items if i.where == scope.agency and set(i.roles) <= scope.roles]


@scoped(Can.REASSIGN)
@require_http_methods(["GET", "POST"])
def pass_on(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    person = scope.person(pk)
    escalations = administered_escalations(request, scope)
    items = _ours(scope, leavers.open_work(person, escalations))
    form = handover_form(items, posted(request))
    if request.method == "POST" and form.is_valid():
        passed, refused = 0, []
        candidates = {str(p.pk): p for i in items for p in i.candidates}
        for item in items:
            chosen = form.cleaned_data.get(item.key)
            if not chosen:
                continue
            try:
                leavers.hand_over(
                    item.escalation.pk,
                    item.side,
                    leaver=person,
                    to=candidates[chosen],
                    by=scope.by,
                    escalations=escalations,
                    request=request,
                )
                passed += 1
            except Refused as refusal:
                refused.append(str(refusal))
        if passed:
            messages.success(
                request,
                f"{passed} part{'s' if passed != 1 else ''} passed on. Each escalation records "
                "it, and each new person has been told.",
            )
        for message in refused:
            messages.error(request, message)
        if not passed and not refused:
            form.add_error(None, "Choose who takes on at least one part, or go back")
        else:
            return HttpResponseRedirect(f"{scope.base}people/{pk}/pass-on/")
    shown = set(
        Escalation.objects.visible_to(request.user)
        .filter(pk__in=[i.escalation.pk for i in items])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "people/pass_on.html",
        context(
            scope,
            section="people",
            person=person,
            form=form,
            items=[(i, i.escalation.pk in shown) for i in items],
            left=not person.user.is_active,
        ),
        status=400 if form.errors else 200,
    )
