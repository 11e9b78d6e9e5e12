"""The signed-in person, with memberships loaded once per request."""

from __future__ import annotations

from django.db.models import Prefetch

from cases.models import Membership, Person


def person_for(user) -> Person | None:
    """The Person behind a user, memberships prefetched; None for anonymous or inactive users."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cached = getattr(user, "_portal_person", None)
    if cached is not None:
        return cached
    person = (
        Person.objects.filter(user=user)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "memberships", queryset=Membership.objects.select_related("agency", "partnership")
            )
        )
        .first()
    )
    user._portal_person = person
    return person
