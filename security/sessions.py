"""Session limits (ASVS 7.1.1): idle time is Django's SESSION_COOKIE_AGE, pushed on by activity at
most once a minute; the absolute limit counts from the moment of sign-in, stamped here."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

SIGNED_IN_AT = "portal_signed_in_at"
REFRESHED_AT = "portal_refreshed_at"


def stamp_sign_in(session) -> None:
    session[SIGNED_IN_AT] = session[REFRESHED_AT] = timezone.now().isoformat()


def signed_in_at(session) -> datetime | None:
    raw = session.get(SIGNED_IN_AT)
    try:
        return datetime.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        return None


def refresh_idle_expiry(session) -> None:
    """Marks the session for saving, which moves its expiry on, if it was last saved more than
    SESSION_REFRESH_SECONDS ago."""
    if session.modified:
        session[REFRESHED_AT] = timezone.now().isoformat()
        return
    raw = session.get(REFRESHED_AT)
    try:
        last = datetime.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        last = None
    now = timezone.now()
    if last is None or (now - last).total_seconds() >= settings.SESSION_REFRESH_SECONDS:
        session[REFRESHED_AT] = now.isoformat()


@receiver(user_logged_in, dispatch_uid="security.stamp_sign_in")
def _stamp_on_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        stamp_sign_in(request.session)
