"""The signed-in person, with memberships loaded once per request."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, prefetch_related_objects

from cases.models import Membership, Person


def person_for(user) -> Person | None:
    """The Person behind a user, memberships prefetched; None for anonymous or inactive users."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cached = getattr(user, "_portal_person", None)
    if cached is not None:
        return cached
    if getattr(user, "person_loaded_with_user", False):
        # The request's user, loaded with its person by cases.auth.PortalBackend.
        try:
            person = user.person
        except ObjectDoesNotExist:
            person = None
        if person is not None:
            prefetch_related_objects([person], _memberships())
    else:
        person = (
            Person.objects.filter(user=user)
            .select_related("user")
            .prefetch_related(_memberships())
            .first()
        )
    user._portal_person = person
    return person


def _memberships() -> Prefetch:
    return Prefetch(
        "memberships", queryset=Membership.objects.select_related("agency", "partnership")
    )
