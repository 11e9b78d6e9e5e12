"""Making, finding and revoking case-system tokens (docs/adr/0029-case-system-api.md)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from api.models import CaseSystemToken

# Shown in front of every secret, so that a leaked one is recognisable (secret scanners).
SCHEME = "epcs_"
PREFIX_LENGTH = len(SCHEME) + 8


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(agency, name: str, by) -> tuple[CaseSystemToken, str]:
    """A new token for the agency; the secret is returned once and only its digest kept."""
    secret = SCHEME + secrets.token_urlsafe(32)
    token = CaseSystemToken.objects.create(
        agency=agency,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        digest=digest(secret),
        created_by=by,
    )
    return token, secret


def find(secret: str) -> CaseSystemToken | None:
    """The active token with this secret, or None (revoked, unknown or malformed)."""
    if not secret.startswith(SCHEME) or len(secret) > 200:
        return None
    return (
        CaseSystemToken.objects.active()
        .select_related("agency")
        .filter(digest=digest(secret))
        .first()
    )


def revoke(token: CaseSystemToken, by) -> bool:
    """Stops the token at once; False when it was already revoked."""
    with transaction.atomic():
        updated = CaseSystemToken.objects.filter(pk=token.pk, revoked_on__isnull=True).update(
            revoked_on=timezone.now(), revoked_by=by
        )
    return bool(updated)


def touch(token: CaseSystemToken) -> None:
    """Remembers when the token was last used, at most once a minute (fewer writes)."""
    now = timezone.now()
    if token.last_used_on is None or (now - token.last_used_on).total_seconds() > 60:
        CaseSystemToken.objects.filter(pk=token.pk).update(last_used_on=now)
        token.last_used_on = now
