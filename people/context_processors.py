"""The navigation's "Manage people" link, for partnership administrators and safeguarding
leads (no query: the memberships come with the signed-in person)."""

from __future__ import annotations

from django.http import HttpRequest

from cases.people import person_for
from people.scope import administers_anything


def manage(request: HttpRequest) -> dict:
    person = person_for(getattr(request, "user", None))
    if not administers_anything(person):
        return {"portal_manages": False}
    extra = {"portal_manages": True}
    if request.path.startswith("/manage/"):
        extra["portal_section"] = "manage"
    return extra
