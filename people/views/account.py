"""The signed-in person's own account page: their details as others see them in the directory,
and their work phone, which they keep up to date themselves (issue 17, point 12)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cases.people import person_for
from people import accounts
from people.forms import MyWorkPhoneForm
from people.views.common import done


def _me(request: HttpRequest):
    person = person_for(request.user)
    if person is None:
        raise Http404
    return person


@login_required
@never_cache
@require_http_methods(["GET"])
def my_account(request: HttpRequest) -> HttpResponse:
    person = _me(request)
    return render(
        request,
        "people/account.html",
        {"person": person, "memberships": person.memberships.all()},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def work_phone(request: HttpRequest) -> HttpResponse:
    person = _me(request)
    form = MyWorkPhoneForm(request.POST or None, initial={"phone": person.phone})
    if request.method == "POST" and form.is_valid():
        accounts.change_my_work_phone(person, form.cleaned_data["phone"], request=request)
        said = (
            "Your work phone has been saved."
            if form.cleaned_data["phone"]
            else ("Your work phone has been removed.")
        )
        return done(request, said, "/account/")
    return render(request, "people/account_phone.html", {"form": form, "person": person})
