"""The OpenID Connect providers a portal trusts, from settings.SSO_PROVIDERS (the environment
variable SSO_PROVIDERS, JSON; docs/integrations.md). None by default: sign-in is by password."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# RFC 8176: "mfa" is "multiple-factor authentication"; a provider may name the factors instead.
MFA_AMR_DEFAULT = ("mfa",)


@dataclass(frozen=True)
class Provider:
    key: str
    label: str
    client_id: str
    client_secret: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_endpoint: str
    # Whose people may sign in with it: partnership slugs (their agencies' people included)
    # and agency ids. A person with no role there is refused like an unknown one.
    partnerships: tuple[str, ...] = ()
    agencies: tuple[int, ...] = ()
    sign_algo: str = "RS256"
    scopes: str = "openid email"
    # Whether the provider's multi-factor sign-in replaces the portal's own second factor.
    # Even when true, only a token whose amr lists one of mfa_amr, or whose acr is one of
    # mfa_acr, counts.
    mfa_replaces_second_factor: bool = False
    mfa_amr: tuple[str, ...] = MFA_AMR_DEFAULT
    mfa_acr: tuple[str, ...] = ()
    # Some providers (Entra ID) send no email_verified claim; only an administrator who knows
    # the provider verifies every address it issues may set this.
    email_always_verified: bool = False
    extra: dict = field(default_factory=dict)

    def says_mfa(self, claims: dict) -> bool:
        amr = claims.get("amr") or []
        if isinstance(amr, str):
            amr = [amr]
        acr = claims.get("acr")
        return bool(set(amr) & set(self.mfa_amr)) or (bool(acr) and acr in self.mfa_acr)


REQUIRED = (
    "key",
    "label",
    "client_id",
    "client_secret",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_endpoint",
)


def parse(entries: list[dict]) -> dict[str, Provider]:
    found: dict[str, Provider] = {}
    for number, entry in enumerate(entries, start=1):
        missing = [name for name in REQUIRED if not entry.get(name)]
        if missing:
            raise ImproperlyConfigured(f"SSO_PROVIDERS entry {number} has no {', '.join(missing)}.")
        if not entry.get("partnerships") and not entry.get("agencies"):
            raise ImproperlyConfigured(
                f"SSO_PROVIDERS entry {number} ({entry['key']}) names no partnerships or "
                "agencies whose people may use it."
            )
        known = set(Provider.__dataclass_fields__)
        unknown = sorted(set(entry) - known)
        if unknown:
            raise ImproperlyConfigured(
                f"SSO_PROVIDERS entry {number} ({entry['key']}) has unknown settings: "
                f"{', '.join(unknown)}."
            )
        values = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in entry.items()
        }
        found[entry["key"]] = Provider(**values)
    return found


def providers() -> dict[str, Provider]:
    return parse(getattr(settings, "SSO_PROVIDERS", []))


def provider(key: str | None) -> Provider | None:
    return providers().get(key) if key else None
