"""The signed-in person, with memberships loaded once per request; the active people who hold\ngiven roles in an agency or a partnership."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, prefetch_related_objects

from cases.models import Agency, Membership, Person
from policies.models import Partnership


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


def members(agency: Agency | None, roles: Iterable[str]) -> list[Person]:
    """The agency's active people in these roles, in the order the roles are given."""
    if agency is None:
        return []
    order = {role: i for i, role in enumerate(roles)}
    memberships = (
        Membership.objects.filter(agency=agency, role__in=list(order), person__user__is_active=True)
        .select_related("person")
        .order_by("id")
    )
    return [m.person for m in sorted(memberships, key=lambda m: order[m.role])]


def partnership_members(partnership: Partnership, roles: Iterable[str]) -> list[Person]:
    """The partnership's active people in these roles, in the order the roles are given."""
    order = {role: i for i, role in enumerate(roles)}
    memberships = (
        Membership.objects.filter(
            partnership=partnership, role__in=list(order), person__user__is_active=True
        )
        .select_related("person")
        .order_by("id")
    )
    return [m.person for m in sorted(memberships, key=lambda m: order[m.role])]


def agency_of(person: Person, *agencies: Agency) -> Agency | None:
    """The first of these agencies the person belongs to (memberships loaded with them)."""
    ids = {m.agency_id for m in person.memberships.all() if m.agency_id}
    return next((agency for agency in agencies if agency.pk in ids), None)
