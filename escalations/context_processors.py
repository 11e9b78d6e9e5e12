"""What every page's header and navigation need: the signed-in person, where they are, and
their unread notices."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cases.people import person_for
from escalations import approvals
from escalations.conference.services import conference_link
from escalations.models import PARTNERSHIP_FIGURES_ROLES, Notice
from policies.models import AGENCY_OVERSIGHT_ROLES

# Path prefix -> section of the service navigation marked as current.
SECTIONS = [
    ("/raise/", "raise"),
    ("/approvals/", "approvals"),
    ("/agency/", "agency"),
    ("/conference/", "conference"),
    ("/directory/", "directory"),
    ("/notifications/", "notifications"),
    ("/partnerships/", "dashboard"),
]


def dashboard_href(memberships) -> str:
    """The dashboard of the first partnership the person sees figures for ('' for none): a
    business manager, chair or administrator reaches it from every page, not by its address."""
    for m in memberships:
        if m.partnership_id and m.role in PARTNERSHIP_FIGURES_ROLES:
            return f"/partnerships/{m.partnership.slug}/dashboard/"
    return ""


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
        # Exactly who the approvals queue admits (views/lead.py): approvers, and stand-ins for
        # an agency without one. Lazy: a query only for a stand-in, only where the nav shows.
        "portal_approves": SimpleLazyObject(lambda: approvals.may_open_queue(person)),
        "portal_oversees": bool(roles & AGENCY_OVERSIGHT_ROLES),
        "portal_raises": any(m.agency_id for m in memberships),
        "portal_dashboard": dashboard_href(memberships),
        # From the partnerships' ladder files: people who record conference concerns and those
        # they are sent to. Lazy, and kept in the session: at most one query in five minutes.
        "portal_conference": SimpleLazyObject(
            lambda: conference_link(request, person, memberships)
        ),
    }


def unread_count(user) -> int:
    person = person_for(user)
    if person is None:
        return 0
    # One query on the notice table alone (index notice_unread_shown), the same for someone
    # with thousands of notices as for someone with none: who may still open what a notice is
    # about is kept in Notice.hidden_at (escalations.notices.access, ADR 0028).
    # scoped-lookup: allowed (the reader's own notices, hidden where they may not open them)
    return Notice.objects.shown_to(person).filter(read_at__isnull=True).count()


def notices(request: HttpRequest) -> dict:
    """unread_notice_count, counted only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notice_count": 0}
    return {"unread_notice_count": SimpleLazyObject(lambda: unread_count(user))}
