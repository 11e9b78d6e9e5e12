"""mozilla-django-oidc's backend, for the provider the person chose (its key is in the
session from sso.views.start), matching them to their existing portal person by verified email.
Nobody is ever created: an unknown person is refused and told to ask their administrator."""

from __future__ import annotations

import logging

import jwt
import requests
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db.models import Q
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from cases.auth import PortalBackend
from cases.models import Person
from sso.providers import Provider, provider

logger = logging.getLogger(__name__)

SESSION_KEY = "sso_provider"
# Set per provider in authenticate(), not from global settings.
PER_PROVIDER = {
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
    "OIDC_RP_SIGN_ALGO",
    "OIDC_RP_IDP_SIGN_KEY",
}

ASK = "Ask your partnership administrator or your agency's safeguarding lead"
UNKNOWN = (
    "There is no portal account for {email} that can sign in this way. {ask} to invite you "
    "with this email address, or sign in with your portal password."
)
UNVERIFIED = (
    "Your organisation's account did not confirm your email address, so the portal cannot "
    "match it to you. {ask}, or sign in with your portal password."
)
AMBIGUOUS = (
    "More than one portal account has the email address {email}. {ask} to put this right, or "
    "sign in with your portal password."
)


def _settings(attr, *args):
    if attr in PER_PROVIDER:
        return args[0] if args else None
    return import_from_settings(attr, *args)


class PortalOIDCBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(_settings)

    def get_user(self, user_id):
        """As for a password sign-in (cases.auth.PortalBackend): the user with their person and
        whether the session's second factor stands, in one query, and nobody whose account may
        no longer sign in. mozilla-django-oidc's own read the user alone (the device took a query
        of its own on every request) and kept a deactivated account signed in."""
        return PortalBackend().get_user(user_id)

    def authenticate(self, request, **kwargs):
        chosen = provider(request.session.get(SESSION_KEY)) if request else None
        if chosen is None or "code" not in request.GET:
            return None
        self.provider = chosen
        self.OIDC_OP_TOKEN_ENDPOINT = chosen.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = chosen.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = chosen.jwks_endpoint
        self.OIDC_RP_CLIENT_ID = chosen.client_id
        self.OIDC_RP_CLIENT_SECRET = chosen.client_secret
        self.OIDC_RP_SIGN_ALGO = chosen.sign_algo
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token):
        """The provider's signing key for this token: by its kid when the token names one
        (mozilla-django-oidc's own rule), else the provider's only signing key for the token's
        algorithm (a kid is optional, RFC 7515); never a guess among several."""
        header = jwt.get_unverified_header(token)
        if "kid" in header:
            return super().retrieve_matching_jwk(token)
        answer = requests.get(
            self.OIDC_OP_JWKS_ENDPOINT, timeout=self.get_settings("OIDC_TIMEOUT", None)
        )
        answer.raise_for_status()
        keys = [
            key
            for key in answer.json().get("keys", [])
            if key.get("use", "sig") == "sig"
            and key.get("alg", header.get("alg")) == header.get("alg")
        ]
        if len(keys) != 1:
            raise SuspiciousOperation("The token names no key and the provider has not one.")
        return jwt.PyJWK(keys[0])

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None:
            # What the ID token says about how the person signed in, for sso.views.
            user.sso_provider_mfa = self.provider.mfa_replaces_second_factor and (
                self.provider.says_mfa(payload)
            )
        return user

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("email"))

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        chosen: Provider = self.provider
        if not (claims.get("email_verified") is True or chosen.email_always_verified):
            self.refuse(UNVERIFIED.format(ask=ASK), email)
            return get_user_model().objects.none()
        people = Person.objects.filter(
            email__iexact=email, user__is_active=True, left_on__isnull=True
        ).filter(self.scope_condition(chosen))
        user_ids = set(people.values_list("user_id", flat=True))
        if len(user_ids) > 1:
            self.refuse(AMBIGUOUS.format(email=email, ask=ASK), email)
            return get_user_model().objects.none()
        if not user_ids:
            self.refuse(UNKNOWN.format(email=email, ask=ASK), email)
        return get_user_model().objects.filter(pk__in=user_ids)

    @staticmethod
    def scope_condition(chosen: Provider) -> Q:
        condition = Q(pk__in=[])
        if chosen.partnerships:
            condition |= Q(memberships__partnership__slug__in=chosen.partnerships) | Q(
                memberships__agency__partnerships__slug__in=chosen.partnerships
            )
        if chosen.agencies:
            condition |= Q(memberships__agency__in=chosen.agencies)
        return condition

    def update_user(self, user, claims):
        return user  # the portal's own record of the person is kept as it is

    def refuse(self, message: str, email: str) -> None:
        logger.warning("single sign-on refused for %s with %s", email, self.provider.key)
        messages.error(self.request, message)
