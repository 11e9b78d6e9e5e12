"""The administrator's own pages: where to start, agencies, closure days, the directory."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cases import emergency
from cases.models import Agency
from cases.people import person_for
from people import invitations, partnership
from people.forms import AgencyForm, ClosureDayForm, DirectoryEntryForm
from people.scope import Can, Refused, Scope, scopes_of
from people.views.common import context, done, scoped
from policies.models import ClosureDay, DirectoryEntry


@login_required
@never_cache
@require_http_methods(["GET"])
def start(request: HttpRequest) -> HttpResponse:
    """The navigation's "Manage people" link: straight to the one scope, or a choice."""
    scopes = scopes_of(person_for(request.user))
    if not scopes:
        raise Http404
    if len(scopes) == 1:
        return HttpResponseRedirect(scopes[0].base)
    return render(request, "people/start.html", {"scopes": scopes})


@scoped(Can.SEE_PEOPLE)
@require_http_methods(["GET"])
def overview(request: HttpRequest, scope: Scope) -> HttpResponse:
    counts = scope.memberships().aggregate(
        people=Count("person", distinct=True),
        left=Count("person", distinct=True, filter=Q(person__user__is_active=False)),
    )
    return render(
        request,
        "people/overview.html",
        context(
            scope,
            section="overview",
            counts=counts,
            waiting=invitations.open_for(scope).count(),
            agencies=len(scope.agency_ids),
            # Issue 17, point 11: a service the emergency route names with no number set.
            numbers_not_set=(
                emergency.numbers_not_set(scope.partnership) if scope.is_partnership else []
            ),
        ),
    )


# --- agencies --------------------------------------------------------------------------------


@scoped(Can.AGENCIES)
@require_http_methods(["GET"])
def agencies(request: HttpRequest, scope: Scope) -> HttpResponse:
    rows = (
        Agency.objects.filter(pk__in=scope.agency_ids)
        .annotate(
            people=Count(
                "memberships__person",
                distinct=True,
                filter=Q(memberships__person__user__is_active=True),
            ),
            shared=Count("partnerships", distinct=True),
        )
        .order_by("name")
    )
    return render(
        request, "people/agencies.html", context(scope, section="agencies", agencies=rows)
    )


@scoped(Can.AGENCIES)
@require_http_methods(["GET", "POST"])
def agency_form(request: HttpRequest, scope: Scope, pk: int | None = None) -> HttpResponse:
    agency = None
    if pk is not None:
        agency = Agency.objects.filter(pk=pk, pk__in=scope.agency_ids).first()
        if agency is None:
            raise Http404
    initial = {f: getattr(agency, f) for f in partnership.AGENCY_FIELDS} if agency else {}
    form = AgencyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved, changed = partnership.save_agency(
                agency, scope=scope, values=form.cleaned_data, by=scope.by, request=request
            )
        except Refused as refusal:
            form.add_error("name", str(refusal))
        else:
            what = "added" if agency is None else "changed" if changed else "left as it was"
            return done(request, f"{saved.name}: {what}.", f"{scope.base}agencies/")
    return render(
        request,
        "people/agency_form.html",
        context(scope, section="agencies", form=form, agency=agency),
        status=400 if form.is_bound else 200,
    )


# --- closure days ----------------------------------------------------------------------------


@scoped(Can.CALENDAR)
@require_http_methods(["GET", "POST"])
def closure_days(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = ClosureDayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            moved = partnership.add_closure_day(
                scope=scope,
                day=form.cleaned_data["day"],
                reason=form.cleaned_data["reason"],
                by=scope.by,
                request=request,
            )
        except Refused as refusal:
            form.add_error("day", str(refusal))
        else:
            return done(
                request,
                f"Closure day added. Running deadlines moved: {moved}.",
                f"{scope.base}closure-days/",
            )
    days = ClosureDay.objects.filter(
        partnership=scope.partnership, date__gte=timezone.localdate().replace(month=1, day=1)
    ).order_by("date")
    return render(
        request,
        "people/closure_days.html",
        context(scope, section="closure-days", form=form, days=days),
        status=400 if form.is_bound else 200,
    )


@scoped(Can.CALENDAR)
@require_http_methods(["POST"])
def closure_day_remove(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    closure = ClosureDay.objects.filter(pk=pk, partnership=scope.partnership).first()
    if closure is None or not forms.Form(request.POST).is_valid():
        raise Http404
    moved = partnership.remove_closure_day(closure, scope=scope, by=scope.by, request=request)
    return done(
        request,
        f"Closure day removed. Running deadlines moved: {moved}.",
        f"{scope.base}closure-days/",
    )


# --- the directory ---------------------------------------------------------------------------


@scoped(Can.DIRECTORY)
@require_http_methods(["GET"])
def directory(request: HttpRequest, scope: Scope) -> HttpResponse:
    entries = [
        (e, partnership.local_entry(e))
        for e in DirectoryEntry.objects.filter(partnership=scope.partnership)
    ]
    return render(
        request, "people/directory.html", context(scope, section="directory", entries=entries)
    )


def _local_entry(scope: Scope, pk: int) -> DirectoryEntry:
    entry = DirectoryEntry.objects.filter(pk=pk, partnership=scope.partnership).first()
    if entry is None or not partnership.local_entry(entry):
        raise Http404
    return entry


@scoped(Can.DIRECTORY)
@require_http_methods(["GET", "POST"])
def directory_form(request: HttpRequest, scope: Scope, pk: int | None = None) -> HttpResponse:
    entry = _local_entry(scope, pk) if pk is not None else None
    initial = {f: getattr(entry, f) for f in partnership.DIRECTORY_FIELDS} if entry else {}
    form = DirectoryEntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            partnership.save_directory_entry(
                entry, scope=scope, values=form.cleaned_data, by=scope.by, request=request
            )
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            return done(request, "The directory has been changed.", f"{scope.base}directory/")
    return render(
        request,
        "people/directory_form.html",
        context(scope, section="directory", form=form, entry=entry),
        status=400 if form.is_bound else 200,
    )


@scoped(Can.DIRECTORY)
@require_http_methods(["POST"])
def directory_remove(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    entry = _local_entry(scope, pk)
    if not forms.Form(request.POST).is_valid():
        raise Http404
    partnership.remove_directory_entry(entry, scope=scope, by=scope.by, request=request)
    return done(request, "The entry has been removed.", f"{scope.base}directory/")
