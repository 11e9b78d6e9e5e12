"""Inviting people, the invitations waiting, and the invitee's own pages (the link)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from escalations.views.common import paginate
from people import invitations
from people.accounts import account_with_email, new_user
from people.audit import role_words
from people.forms import AcceptForm, InviteForm
from people.scope import Can, Refused, Scope
from people.views.common import context, done, posted, scoped

OUTCOMES = {
    "invited": "An invitation has been sent to {email}. The link works once, for 72 hours.",
    "added to invitation": "{email} had already been invited: the role has been added to "
    "that invitation.",
    "role added": "{name} already has an account ({email}): the role has been added to it, "
    "and they have been told by email.",
    "no change": "Nothing changed: {email} already holds or has been invited to that role.",
}


@scoped(Can.INVITE)
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = InviteForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = invitations.invite(
                scope=scope,
                email=data["email"],
                full_name=data["full_name"],
                roles=[form.spec()],
                by=scope.by,
                request=request,
            )
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            name = result.person.full_name if result.person else data["full_name"]
            message = OUTCOMES[result.outcome].format(email=data["email"].lower(), name=name)
            return done(request, message, f"{scope.base}invitations/")
    return render(
        request,
        "people/invite.html",
        context(scope, section="invitations", form=form),
        status=400 if form.is_bound else 200,
    )


@scoped(Can.INVITE)
@require_http_methods(["GET"])
def invitation_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    waiting = (
        invitations.open_for(scope)
        .select_related("invited_by")
        .prefetch_related("roles__agency", "roles__partnership")
        .order_by("-invited_on", "-pk")
    )
    page = paginate(request, waiting, size=50)
    rows = [(i, [role_words(r) for r in i.roles.all() if scope.covers(r)]) for i in page]
    return render(
        request,
        "people/invitations.html",
        context(scope, section="invitations", page=page, rows=rows),
    )


@scoped(Can.INVITE)
@require_http_methods(["POST"])
def invitation_renew(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    invitation = invitations.scoped_invitation(scope, pk)
    try:
        invitations.renew(invitation, by=scope.by, scope=scope, request=request)
    except Refused as refusal:
        return done(request, str(refusal), f"{scope.base}invitations/")
    return done(
        request,
        f"A new invitation has been sent to {invitation.email}; the earlier link no longer works.",
        f"{scope.base}invitations/",
    )


@scoped(Can.INVITE)
@require_http_methods(["POST"])
def invitation_cancel(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    invitation = invitations.scoped_invitation(scope, pk)
    try:
        invitations.cancel(invitation, scope=scope, by=scope.by, request=request)
    except Refused as refusal:
        return done(request, str(refusal), f"{scope.base}invitations/")
    return done(
        request,
        f"The invitation to {invitation.email} has been withdrawn: its link no longer works.",
        f"{scope.base}invitations/",
    )


# --- the invitee's pages: public, the link's secret is the key ------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """Set a password, then (the second-factor guard sends them there) set up the app: the
    invitee sees nothing of the portal before both."""
    invitation = invitations.find(token)
    if invitation is None:
        return render(request, "people/invitation_invalid.html", status=404)
    state = invitation.state
    if state != "valid":
        return render(
            request,
            "people/invitation_ended.html",
            {
                "state": state,
                "invitation": invitation,
                "may_ask_again": invitations.may_ask_again(invitation),
                "token": token,
            },
            status=410,
        )
    existing = account_with_email(invitation.email)
    if existing is not None and existing.user.is_active:
        # Invited twice, and the other invitation made the account: nothing to set up.
        form = forms.Form(posted(request))
        password = None
    else:
        returning = invitation.person
        user = returning.user if returning else new_user(invitation.email, invitation.full_name)
        form = AcceptForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data.get("password")
        try:
            person = invitations.accept(invitation, password=password, request=request)
        except Refused:
            return HttpResponseRedirect(request.path)
        # Whoever was signed in in this browser is signed out first.
        logout(request)
        if password is None:
            return done(request, "The role has been added to your account: sign in.", "/sign-in/")
        login(request, person.user, backend="cases.auth.PortalBackend")
        return HttpResponseRedirect("/account/two-factor/set-up/?next=/")
    return render(
        request,
        "people/invitation_accept.html",
        {
            "form": form,
            "invitation": invitation,
            "roles": [role_words(r) for r in invitation.roles.all()],
            "username": invitation.email,
            "already": existing is not None and existing.user.is_active,
        },
        status=400 if form.is_bound else 200,
    )


@never_cache
@require_http_methods(["POST"])
def ask_again(request: HttpRequest, token: str) -> HttpResponse:
    """From an expired link: a new link to the same address (never another)."""
    invitation = invitations.find(token)
    form = forms.Form(request.POST)
    if invitation is None or not form.is_valid():
        return render(request, "people/invitation_invalid.html", status=404)
    try:
        invitations.renew(invitation, request=request)
    except Refused:
        return render(
            request,
            "people/invitation_ended.html",
            {"state": invitation.state, "invitation": invitation},
            status=410,
        )
    return render(request, "people/invitation_sent_again.html", {"invitation": invitation})
