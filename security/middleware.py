"""Request guards every page passes: absolute session limit, second factor, no caching, no
control characters, the content security policy."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from urllib.parse import urlencode

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, get_user, logout
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import is_verified
from django_otp.models import Device

from cases.auth import SESSION_DEVICE, session_device
from security.sessions import refresh_idle_expiry, signed_in_at, stamp_sign_in

TWO_FACTOR_URL = "/account/two-factor/"


class SignedInMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware and django_otp's OTPMiddleware in one: request.user is
    loaded with its person and whether the session's second factor still stands, in one query
    (cases.auth.PortalBackend), where OTPMiddleware read the device with a query of its own on
    every request (issue 18 point 5). The rule is django_otp's: verified while the session names
    a confirmed device of this user; otherwise the name is dropped from the session. The device
    itself is read only if something asks for it (request.user.otp_device)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(partial(self.user_with_second_factor, request))

    @staticmethod
    def user_with_second_factor(request: HttpRequest):
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        token = SESSION_DEVICE.set(persistent_id)
        try:
            user = get_user(request)
        finally:
            SESSION_DEVICE.reset(token)
        user.otp_device = None
        user.is_verified = partial(is_verified, user)
        if not user.is_authenticated or not persistent_id:
            return user
        stands = getattr(user, "second_factor_stands", None)
        if stands is None:
            # Loaded by another backend (single sign-on's): django_otp's own check, one query;
            # none for a name that is no device's (django_otp's own lookup fails on it).
            device = (
                Device.from_persistent_id(persistent_id) if session_device(persistent_id) else None
            )
            stands = device is not None and device.user_id == user.pk and device.confirmed
        if stands:
            user.otp_device = SimpleLazyObject(partial(Device.from_persistent_id, persistent_id))
        else:
            del request.session[DEVICE_ID_SESSION_KEY]
        return user


def is_exempt_from_second_factor(path: str) -> bool:
    """The short list of paths a signed-in user without a verified second factor may reach."""
    return any(path.startswith(prefix) for prefix in settings.SECOND_FACTOR_EXEMPT_PATHS)


class SessionLimitsMiddleware:
    """Ends a session SESSION_ABSOLUTE_SECONDS after sign-in, however busy it has been, and a
    session whose user may no longer sign in.

    Activity pushes the idle expiry (SESSION_COOKIE_AGE) on at most once every
    SESSION_REFRESH_SECONDS: writing the session on every page cost three queries a page, and
    an idle limit between 29 and 30 minutes is never longer than the standard allows."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated and SESSION_KEY in request.session:
            # Signed in once, refused now (deactivated, deleted, password changed): end it.
            request.session.flush()
        elif request.user.is_authenticated:
            started = signed_in_at(request.session)
            if started is None:
                stamp_sign_in(request.session)
            elif timezone.now() - started > timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS):
                logout(request)
                hours = settings.SESSION_ABSOLUTE_SECONDS // 3600
                messages.info(request, f"You were signed out after {hours} hours. Sign in again.")
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{settings.LOGIN_URL}?{query}")
        response = self.get_response(request)
        if request.user.is_authenticated:
            refresh_idle_expiry(request.session)
        return response


class SecondFactorRequiredMiddleware:
    """Sends a signed-in user whose session has no verified second factor to enrol or verify.

    Goes after SignedInMiddleware, which sets request.user.is_verified()."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not is_exempt_from_second_factor(request.path)
        ):
            target = TWO_FACTOR_URL
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(target)
        return self.get_response(request)


class NoStoreMiddleware:
    """Nothing shown to a signed-in person is kept by a browser or proxy cache (ASVS 14.3.2)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
        return response


# C0 control characters and DEL. Typed text keeps tab, line feed and carriage return (a
# textarea sends lines as CR LF); nothing else in this range is ever typed, and NUL cannot be
# stored by PostgreSQL at all.
_CONTROL = "".join(chr(c) for c in range(32)) + "\x7f"
_CONTROL_IN_ADDRESS = re.compile(f"[{re.escape(_CONTROL)}]")
_CONTROL_IN_TEXT = re.compile(
    f"[{re.escape(_CONTROL.replace(chr(9), '').replace(chr(10), '').replace(chr(13), ''))}]"
)


def has_control_characters(request: HttpRequest) -> bool:
    """Whether the address, the query or a form field holds a control character (a NUL from
    `%00`, an escape sequence): none is ever typed, and NUL reaches PostgreSQL as an error."""
    if _CONTROL_IN_ADDRESS.search(request.path):
        return True
    for key, values in request.GET.lists():
        if _CONTROL_IN_ADDRESS.search(key) or any(_CONTROL_IN_ADDRESS.search(v) for v in values):
            return True
    if request.method == "POST":
        for key, values in request.POST.lists():
            if _CONTROL_IN_ADDRESS.search(key) or any(_CONTROL_IN_TEXT.search(v) for v in values):
                return True
    return False


class RefuseControlCharactersMiddleware:
    """Answers 400, with a page saying what was wrong and that nothing was saved, to a request
    whose address, query or form fields hold control characters, before any view or lookup
    sees them. Every route and form is covered at once (tests/security/test_fuzz_routes.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_control_characters(request):
            return HttpResponse(render_to_string("400_characters.html"), status=400)
        return self.get_response(request)


# What django-csp's decorators set on a response to give it a policy of its own.
_OWN_POLICY = tuple(
    f"_csp_{kind}{suffix}" for kind in ("config", "update", "replace") for suffix in ("", "_ro")
)


@functools.cache
def _settings_policies() -> tuple[str, str]:
    """The policy and the report-only policy the settings give, as django-csp builds them."""
    return build_policy(), build_policy(report_only=True)


@receiver(setting_changed, dispatch_uid="security.csp_settings_changed")
def _forget_settings_policies(setting, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies.cache_clear()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the settings' policy built once rather than for every
    response (twice, with the report-only one): it was the one middleware whose cost showed in
    a signed-in page's fixed cost (ADR 0036). A response with a policy of its own (django-csp's
    decorators) or a page that used a nonce is answered by django-csp itself."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _OWN_POLICY
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response  # django-csp leaves Django's debug pages alone
        path = request.path_info
        for header, policy, exempt, setting in zip(
            (HEADER, HEADER_REPORT_ONLY),
            _settings_policies(),
            ("_csp_exempt", "_csp_exempt_ro"),
            ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
            strict=True,
        ):
            excluded = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if (
                policy
                and header not in response
                and not getattr(response, exempt, False)
                and not path.startswith(tuple(excluded))
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header was written is an error, not a
        # nonce the policy does not carry.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
