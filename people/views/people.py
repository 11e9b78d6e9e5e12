"""Who holds which role in which agency, and the changes to one person."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.log import record_export
from escalations.views.common import paginate
from people import accounts, imports, leavers
from people.forms import PARTNERSHIP, PeopleFilterForm, PersonForm, RoleFields
from people.scope import Can, Refused, Scope
from people.views.common import context, done, posted, scoped


@scoped(Can.SEE_PEOPLE)
@require_http_methods(["GET"])
def people_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    memberships = (
        scope.memberships()
        .select_related("person__user", "agency", "partnership")
        .order_by("person__full_name", "person_id", "id")
    )
    form = PeopleFilterForm(request.GET or None, scope=scope)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            memberships = memberships.filter(
                Q(person__full_name__icontains=data["q"]) | Q(person__email__icontains=data["q"])
            )
        if data["agency"] == PARTNERSHIP:
            memberships = memberships.filter(partnership__isnull=False)
        elif data["agency"]:
            memberships = memberships.filter(agency=data["agency"])
        if data["role"]:
            memberships = memberships.filter(role=data["role"])
        if data["status"]:
            memberships = memberships.filter(person__user__is_active=data["status"] == "active")
    elif form.is_bound:
        memberships = memberships.none()
    page = paginate(request, memberships, size=50)
    filters = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "people/people.html",
        context(
            scope,
            section="people",
            form=form,
            page=page,
            query=urlencode(filters) + "&" if filters else "",
            filters=urlencode(filters),
        ),
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@scoped(Can.IMPORT)
@require_http_methods(["GET"])
def export(request: HttpRequest, scope: Scope, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    data = imports.export(scope, fmt)
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(data, content_type=content_type)
    name = (scope.partnership.slug if scope.partnership else f"agency-{scope.agency.pk}")[:60]
    response["Content-Disposition"] = f'attachment; filename="people-{name}.{fmt}"'
    record_export(
        request,
        f"people list {fmt.upper()}",
        partnership_id=scope.audit_partnership_id(),
        rows=scope.memberships().count(),
    )
    return response


def _person_context(scope: Scope, person, **extra) -> dict:
    memberships = list(person.memberships.all())
    ours = [m for m in memberships if scope.covers(m)]
    return context(
        scope,
        section="people",
        person=person,
        ours=[(m, scope.manages(m)) for m in ours],
        elsewhere=len(memberships) - len(ours),
        whole=scope.whole(person),
        left=not person.user.is_active,
        **extra,
    )


@scoped(Can.SEE_PEOPLE)
@require_http_methods(["GET"])
def person_page(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    person = scope.person(pk)
    app = TOTPDevice.objects.filter(user=person.user, confirmed=True).exists()
    return render(request, "people/person.html", _person_context(scope, person, second_factor=app))


def _form_page(request, scope, person, form, template, action, **extra):
    """Shows the form; on a valid POST runs the action, or shows why it was refused."""
    if request.method == "POST" and form.is_valid():
        try:
            return action()
        except Refused as refusal:
            form.add_error(None, str(refusal))
    return render(
        request,
        template,
        _person_context(scope, person, form=form, **extra),
        status=400 if form.is_bound else 200,
    )


@scoped(Can.EDIT_PEOPLE)
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    # A leaver's name stays as it was, as the history shows it.
    person = _whole_and_active(scope, pk)
    form = PersonForm(
        request.POST or None,
        initial={"full_name": person.full_name, "email": person.email, "phone": person.phone},
    )

    def action():
        accounts.edit_person(
            person,
            scope=scope,
            full_name=form.cleaned_data["full_name"],
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"],
            by=scope.by,
            request=request,
        )
        return done(request, "Their details have been changed.", f"{scope.base}people/{pk}/")

    return _form_page(request, scope, person, form, "people/person_edit.html", action)


@scoped(Can.INVITE)
@require_http_methods(["GET", "POST"])
def role_add(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    person = scope.person(pk)
    if not person.user.is_active:
        raise Http404
    form = RoleFields(request.POST or None, scope=scope)

    def action():
        spec = form.spec()
        membership = accounts.add_role(
            person,
            scope=scope,
            role=spec.role,
            job_title=spec.job_title,
            agency=spec.agency,
            partnership=spec.partnership,
            by=scope.by,
            request=request,
        )
        return done(
            request,
            f"{person.full_name} is now {membership.get_role_display().lower()} at "
            f"{membership.agency or membership.partnership}.",
            f"{scope.base}people/{pk}/",
        )

    return _form_page(request, scope, person, form, "people/role_add.html", action)


def _confirm(request, scope, person, template, change, message: str, to: str = "", **extra):
    """A page that asks "are you sure?"; its button makes the change."""
    form = forms.Form(posted(request))

    def action():
        change()
        return done(request, message, to or f"{scope.base}people/{person.pk}/")

    return _form_page(request, scope, person, form, template, action, **extra)


@scoped(Can.REMOVE)
@require_http_methods(["GET", "POST"])
def role_remove(request: HttpRequest, scope: Scope, pk: int, membership_id: int) -> HttpResponse:
    person = scope.person(pk)
    membership = next((m for m in person.memberships.all() if m.pk == membership_id), None)
    # A leaver's roles stay as the record of who they were.
    if membership is None or not scope.manages(membership) or not person.user.is_active:
        raise Http404
    return _confirm(
        request,
        scope,
        person,
        "people/role_remove.html",
        lambda: accounts.remove_role(membership, scope=scope, by=scope.by, request=request),
        f"{person.full_name} no longer holds the role {membership.get_role_display().lower()} "
        f"at {membership.agency or membership.partnership}.",
        membership=membership,
    )


def _whole_and_active(scope: Scope, pk: int):
    """A person whose every role is the scope's, and who has not left; else a missing page."""
    person = scope.person(pk)
    if not scope.whole(person) or not person.user.is_active:
        raise Http404
    return person


@scoped(Can.REMOVE)
@require_http_methods(["GET", "POST"])
def leaver(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    person = _whole_and_active(scope, pk)
    return _confirm(
        request,
        scope,
        person,
        "people/leaver.html",
        lambda: leavers.mark_leaver(person, scope=scope, by=scope.by, request=request),
        f"{person.full_name} is marked as a leaver: they can no longer sign in.",
        f"{scope.base}people/{pk}/pass-on/",
    )


@scoped(Can.RESET_SECOND_FACTOR)
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    person = _whole_and_active(scope, pk)
    return _confirm(
        request,
        scope,
        person,
        "people/second_factor.html",
        lambda: accounts.reset_second_factor(person, scope=scope, by=scope.by, request=request),
        f"{person.full_name}'s second factor has been reset: they set up a new authenticator "
        "app when they next sign in.",
    )
