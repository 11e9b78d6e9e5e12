"""What every page's header and navigation need: the signed-in person, where they are, and
their unread notices."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cases.models import Sector
from cases.people import person_for
from escalations.models import Notice
from escalations.notifications import visible_notices
from policies.models import AGENCY_OVERSIGHT_ROLES, Role

# Path prefix -> section of the service navigation marked as current.
SECTIONS = [
    ("/raise/", "raise"),
    ("/approvals/", "approvals"),
    ("/agency/", "agency"),
    ("/conference/", "conference"),
    ("/directory/", "directory"),
    ("/notifications/", "notifications"),
]


def portal(request: HttpRequest) -> dict:
    person = person_for(getattr(request, "user", None))
    if person is None:
        return {"portal_person": None}
    memberships = list(person.memberships.all())
    roles = {m.role for m in memberships}
    section = next(
        (name for prefix, name in SECTIONS if request.path.startswith(prefix)),
        "home" if request.path == "/" or request.path.startswith("/escalations/") else "",
    )
    return {
        "portal_person": person,
        "portal_membership": memberships[0] if memberships else None,
        "portal_more_memberships": max(len(memberships) - 1, 0),
        "portal_section": section,
        "portal_is_lead": Role.SAFEGUARDING_LEAD in roles,
        "portal_oversees": bool(roles & AGENCY_OVERSIGHT_ROLES),
        "portal_raises": any(m.agency_id for m in memberships),
        "portal_conference": bool(roles & AGENCY_OVERSIGHT_ROLES)
        or any(m.agency and m.agency.sector == Sector.CHILDRENS_SOCIAL_CARE for m in memberships),
    }


def unread_count(user) -> int:
    person = person_for(user)
    if person is None:
        return 0
    # One query: escalation and conference notices counted together.
    # scoped-lookup: allowed (the reader's own notices, about what visible_notices lets them see)
    return (
        Notice.objects.filter(recipient=person, read_at__isnull=True)
        .filter(visible_notices(user))
        .count()
    )


def notices(request: HttpRequest) -> dict:
    """unread_notice_count, counted only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notice_count": 0}
    return {"unread_notice_count": SimpleLazyObject(lambda: unread_count(user))}
