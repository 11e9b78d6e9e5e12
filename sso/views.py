"""/sso/<provider>/start/ sends the person to their organisation's sign-in; /sso/callback/
brings them back signed in (sso.backends), then to the portal's second factor unless the
provider is trusted to have done it (docs/adr/0030-single-sign-on.md)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views import View
from django_otp import login as otp_login
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from audit import log as audit_log
from audit.models import AuditEntry
from sso.backends import SESSION_KEY
from sso.models import ProviderMFADevice
from sso.providers import provider

DEVICE_NAME = "Organisation's sign-in (multi-factor)"


class Start(OIDCAuthenticationRequestView):
    def __init__(self, **kwargs):
        # Not mozilla-django-oidc's __init__, which reads one provider from the settings: the
        # endpoints are the chosen provider's, set in get().
        View.__init__(self, **kwargs)
        self.OIDC_OP_AUTH_ENDPOINT = ""
        self.OIDC_RP_CLIENT_ID = ""

    def get(self, request: HttpRequest, key: str) -> HttpResponse:
        chosen = provider(key)
        if chosen is None:
            raise Http404
        request.session[SESSION_KEY] = chosen.key
        self.OIDC_OP_AUTH_ENDPOINT = chosen.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = chosen.client_id
        return super().get(request)

    def get_settings(self, attr, *args):
        if attr == "OIDC_RP_SCOPES":
            chosen = provider(self.request.session.get(SESSION_KEY))
            if chosen is not None:
                return chosen.scopes
        return OIDCAuthenticationRequestView.get_settings(attr, *args)


class Callback(OIDCAuthenticationCallbackView):
    def login_success(self):
        response = super().login_success()
        chosen = provider(self.request.session.get(SESSION_KEY))
        trusted = bool(getattr(self.user, "sso_provider_mfa", False))
        if trusted:
            device, _ = ProviderMFADevice.objects.get_or_create(
                user=self.user, defaults={"name": DEVICE_NAME, "confirmed": True}
            )
            otp_login(self.request, device)
        audit_log.record(
            self.request,
            kind=AuditEntry.Kind.SYSTEM,
            what=(
                f"signed in with {chosen.label if chosen else 'single sign-on'}"
                + (" (its multi-factor sign-in accepted)" if trusted else "")
            ),
            user=self.user,
        )
        return response
