"""The second-factor pages: set up an authenticator app, verify a sign-in, new backup codes."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from security import two_factor
from security.forms import AppCodeForm, VerifyForm


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def _signed_in(view):
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(settings.LOGIN_URL)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_http_methods(["GET"])
@_signed_in
def start(request: HttpRequest) -> HttpResponse:
    """Where the second-factor guard sends people: set up on first sign-in, else verify."""
    if request.user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    name = "two-factor-verify" if two_factor.is_enrolled(request.user) else "two-factor-set-up"
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(reverse(name) + (f"?{query}" if query else ""))


@require_http_methods(["GET", "POST"])
@_signed_in
def set_up(request: HttpRequest) -> HttpResponse:
    if two_factor.is_enrolled(request.user) and not request.user.is_verified():
        # Replacing an app needs the existing second factor first.
        return redirect("two-factor-verify")
    device = two_factor.pending_app(request.user)
    form = AppCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_enrolment(request, code=form.cleaned_data["code"])
        if codes is not None:
            # Shown in this response only, never stored where they could be shown again.
            return render(
                request,
                "account/backup_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
        form.add_error("code", _wrong_code_message(request.user))
    return render(
        request,
        "account/two_factor_set_up.html",
        {
            "form": form,
            "qr_code": two_factor.qr_code_data_uri(device),
            "key": two_factor.key_for_display(device),
            "next": _next_url(request),
        },
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@_signed_in
def verify(request: HttpRequest) -> HttpResponse:
    if not two_factor.is_enrolled(request.user):
        return redirect("two-factor-set-up")
    if request.user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request, code=form.cleaned_data["code"]):
            return HttpResponseRedirect(_next_url(request))
        form.add_error("code", _wrong_code_message(request.user))
    return render(
        request,
        "account/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@_signed_in
def backup_codes(request: HttpRequest) -> HttpResponse:
    """A verified person may replace their backup codes; the old ones stop working."""
    if not request.user.is_verified():
        return redirect("two-factor-verify")
    if request.method == "POST":
        codes = two_factor.new_backup_codes(request.user)
        return render(
            request, "account/backup_codes.html", {"codes": codes, "next": "/", "first_time": False}
        )
    return render(
        request,
        "account/backup_codes_replace.html",
        {"left": two_factor.backup_codes_left(request.user)},
    )


def _wrong_code_message(user) -> str:
    if two_factor.throttled(user):
        return "Too many wrong codes. Wait a minute, then enter the newest code from your app"
    return "The code is not correct, or has been used already. Enter the newest code from your app"
