"""Child protection conference concerns, where a partnership's ladder file defines a route for
them (Kirklees Appendix 3): who may record one, who it goes to, who answers; each change and
its notices in one transaction. No partnership is named here: the route is data."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from cases.models import Agency, Person
from cases.people import members, person_for
from escalations.models import (
    ConferenceReason,
    ConferenceReport,
    ConferenceResponse,
    Notice,
    NoticeKind,
)
from escalations.services.acting import ActionRefused, not_future, require_text
from policies.models import AGENCY_OVERSIGHT_ROLES, Ladder, Partnership, Role, current_ladders

ROLE_WORDS = {
    Role.SAFEGUARDING_LEAD: "safeguarding lead",
    Role.SENIOR_MANAGER: "senior manager",
    Role.LINE_MANAGER: "line manager",
    Role.PRACTITIONER: "practitioner",
}


@dataclass(frozen=True)
class ConferenceRoute:
    """How a partnership's policy escalates a conference concern, from its ladder file
    (ladder.conference_concerns, policies/ladders/SCHEMA.md): who records one, who it goes to,
    and who where the agency has none of those. Each rule says whether the policy states it
    or the partnership chose it (local)."""

    partnership: Partnership
    source: str
    guidance: str
    contact: str
    recorder_sectors: tuple[str, ...]
    recorder_rule: str
    recipient_roles: tuple[str, ...]
    recipient_rule: str
    stand_in_roles: tuple[str, ...] = ()
    stand_in_rule: str = ""
    # Read for a person (routes_for): which of their agencies belong to the partnership.
    agencies: frozenset[int] | None = None

    @classmethod
    def of(cls, ladder: Ladder | None, agencies=None) -> ConferenceRoute | None:
        data = ladder.conference_concerns if ladder is not None else None
        if not data:
            return None
        stand_ins = data.get("sent_to_without_lead") or {"roles": [], "source": ""}
        return cls(
            partnership=ladder.partnership,
            source=data["source"],
            guidance=data["guidance"],
            contact=data.get("contact", ""),
            recorder_sectors=tuple(data["recorded_by"]["sectors"]),
            recorder_rule=data["recorded_by"]["source"],
            recipient_roles=tuple(data["sent_to"]["roles"]),
            recipient_rule=data["sent_to"]["source"],
            stand_in_roles=tuple(stand_ins["roles"]),
            stand_in_rule=stand_ins["source"],
            agencies=frozenset(agencies) if agencies is not None else None,
        )

    @property
    def recipients_in_words(self) -> str:
        """'safeguarding lead' (the role the concern is sent to, as the page names it)."""
        return " or ".join(ROLE_WORDS.get(role, role) for role in self.recipient_roles)

    def records(self, person: Person) -> bool:
        """Whether the person belongs to an agency of the partnership in a recording sector."""
        agencies = {
            m.agency_id
            for m in person.memberships.all()
            if m.agency_id and m.agency.sector in self.recorder_sectors
        }
        if not agencies:
            return False
        if self.agencies is not None:
            return bool(agencies & self.agencies)
        return Agency.objects.filter(pk__in=agencies, partnerships=self.partnership).exists()

    def receives(self, person: Person) -> bool:
        """Whether the person holds a role the route sends concerns to (or that stands in), in
        one of their agencies of the partnership (read for a person by routes_for)."""
        roles = {*self.recipient_roles, *self.stand_in_roles}
        return any(
            m.agency_id in (self.agencies or ()) and m.role in roles
            for m in person.memberships.all()
        )


def route_for(partnership: Partnership) -> ConferenceRoute | None:
    """The partnership's route for conference concerns, from its current ladder; None where
    its policy has none."""
    return ConferenceRoute.of(partnership.current_ladder)


def routes_for(person: Person) -> list[ConferenceRoute]:
    """The routes of the partnerships the person's agencies belong to, each knowing which of
    the person's agencies are in it: one query, none for a person without an agency."""
    agencies = person.agency_ids()
    if not agencies:
        return []
    ladders: dict[int, Ladder] = {}
    theirs: dict[int, set[int]] = {}
    rows = (
        current_ladders(Partnership.objects.all())
        .filter(partnership__agencies__in=agencies)
        .annotate(agency_id=F("partnership__agencies"))
    )
    for ladder in rows:
        ladders.setdefault(ladder.pk, ladder)
        theirs.setdefault(ladder.pk, set()).add(ladder.agency_id)
    routes = (ConferenceRoute.of(ladder, theirs[pk]) for pk, ladder in ladders.items())
    return [route for route in routes if route is not None]


def recording_routes(person: Person) -> list[ConferenceRoute]:
    """The routes through which the person may record a concern (they chair conferences)."""
    return [route for route in routes_for(person) if route.records(person)]


def may_record_conference_concern(person: Person, partnership: Partnership) -> bool:
    """The partnership's policy has a route for conference concerns, and the person is in a
    sector its ladder file says records them (docs/adr/0012-conference-concerns-as-ladder-data.md)."""
    route = route_for(partnership)
    return route is not None and route.records(person)


# The sectors whose members record concerns in some partnership, cached for the navigation: a
# ladder file changes only through load_policies, which forgets it (forget_recorder_sectors).
RECORDER_SECTORS_KEY = "conference:recorder-sectors"
RECORDER_SECTORS_SECONDS = 300


def recorder_sectors() -> frozenset[str]:
    """The sectors any current ladder file says record conference concerns."""
    cached = cache.get(RECORDER_SECTORS_KEY)
    if cached is None:
        routes = map(ConferenceRoute.of, current_ladders(Partnership.objects.all()))
        cached = frozenset(
            sector for route in routes if route is not None for sector in route.recorder_sectors
        )
        cache.set(RECORDER_SECTORS_KEY, cached, RECORDER_SECTORS_SECONDS)
    return cached


# Bumped whenever the ladders are loaded again in this process: sessions keep the navigation's
# conference link (escalations.context_processors.conference_link) for this generation only.
LADDERS_GENERATION_KEY = "conference:ladders-generation"


def ladders_generation() -> int:
    return cache.get_or_set(LADDERS_GENERATION_KEY, 0, timeout=None)


def forget_recorder_sectors() -> None:
    cache.delete(RECORDER_SECTORS_KEY)
    try:
        cache.incr(LADDERS_GENERATION_KEY)
    except ValueError:  # not set yet
        cache.set(LADDERS_GENERATION_KEY, 1, timeout=None)


def sees_conference_concerns(person: Person) -> bool:
    """Whether the navigation offers conference concerns: only where the ladder of a
    partnership one of the person's agencies belongs to defines a route for them, to that
    agency's safeguarding leads and managers (who see the concerns about it) and to members of
    a sector that records them. A Pan-Cheshire lead never sees a link to a page their policy
    does not have. One query (routes_for), and none for someone who could see them in no
    partnership (neither a lead or manager, nor in a sector any ladder says records them)."""
    sectors = recorder_sectors()
    if not any(
        m.agency_id and (m.role in AGENCY_OVERSIGHT_ROLES or m.agency.sector in sectors)
        for m in person.memberships.all()
    ):
        return False
    for route in routes_for(person):
        if route.records(person) or any(
            m.agency_id in (route.agencies or ()) and m.role in AGENCY_OVERSIGHT_ROLES
            for m in person.memberships.all()
        ):
            return True
    return False


def conference_concern_recipients(
    agency: Agency, route: ConferenceRoute | None = None
) -> tuple[str, list[Person]]:
    """Who a conference concern goes to, and as which kind of notice: the agency's active
    people in the route's recipient roles; where it has none, those in its stand-in roles,
    told so. Never nobody: an agency with neither cannot be sent a concern (ActionRefused)."""
    route = route or _route_of_agency(agency)
    leads = members(agency, route.recipient_roles)
    if leads:
        return NoticeKind.CONFERENCE_CONCERN, leads
    managers = members(agency, route.stand_in_roles)
    if managers:
        return NoticeKind.CONFERENCE_CONCERN_NO_LEAD, managers
    raise ActionRefused(
        f"{agency.name} has no {route.recipients_in_words} or manager in the portal to send "
        "this to. Ask the partnership administrator to add one, then record the concern."
    )


def _route_of_agency(agency: Agency) -> ConferenceRoute:
    for ladder in current_ladders(agency.partnerships.all()):
        route = ConferenceRoute.of(ladder)
        if route is not None:
            return route
    raise ActionRefused(f"No partnership of {agency.name} escalates conference concerns.")


def may_respond_to_conference_concern(person: Person, report) -> bool:
    """The agency's people in the route's recipient roles answer; where it has none active,
    the stand-ins the concern went to answer instead."""
    route = route_for(report.partnership)
    if route is None:
        return False
    if any(person.has_role(role, agency_id=report.agency_id) for role in route.recipient_roles):
        return True
    if not any(person.has_role(role, agency_id=report.agency_id) for role in route.stand_in_roles):
        return False
    return not members(report.agency, route.recipient_roles)


def notify_conference(report, kind: str, recipients: Iterable[Person]) -> int:
    """Outbox rows about a conference concern (Notice.objects.write_about_concern)."""
    return Notice.objects.write_about_concern(report, kind, recipients)


def record_conference_concern(
    *,
    by: Person,
    partnership: Partnership,
    meeting_on: date,
    family_identifier: str,
    chair_name: str,
    agency: Agency,
    reason: str,
    details: str,
    agency_representative: str = "",
):
    """The chair's record; it goes to the named agency's safeguarding lead (a notice written in
    the same transaction, so the record is never kept without telling them)."""
    route = route_for(partnership)
    if route is None:
        raise ActionRefused(f"{partnership.name} has no route for conference concerns.")
    if not route.records(by):
        raise ActionRefused(
            "Only a child protection conference chair (children's social care) can record this."
        )
    if reason not in ConferenceReason.values:
        raise ActionRefused("Select the reason for the escalation.")
    if not agency.partnerships.filter(pk=partnership.pk).exists():
        raise ActionRefused(f"{agency.name} is not an agency of {partnership.name}.")
    not_future(meeting_on, "The date of the meeting")
    fields = {
        "family_identifier": require_text(
            family_identifier, "the family name or identifying factors"
        ),
        "chair_name": require_text(chair_name, "the name of the conference chair"),
        "details": require_text(details, "the reason for the escalation"),
    }
    kind, recipients = conference_concern_recipients(agency, route)
    with transaction.atomic():
        report = ConferenceReport.objects.create(
            partnership=partnership,
            recorded_by=by,
            meeting_on=meeting_on,
            agency=agency,
            agency_representative=agency_representative.strip(),
            reason=reason,
            **fields,
        )
        notify_conference(report, kind, recipients)
    return report


def respond_to_conference_concern(report, *, by: Person, summary: str):
    """The named agency's safeguarding lead answers; once only (the row lock and the one-to-one
    make a second answer a refusal, not a duplicate). The chair is told in the same
    transaction."""
    summary = require_text(summary, "your response")
    with transaction.atomic():
        locked = (
            ConferenceReport.objects.select_for_update(of=("self",))
            .select_related("agency", "recorded_by", "partnership")
            .get(pk=report.pk)
        )
        if not may_respond_to_conference_concern(by, locked):
            route = route_for(locked.partnership)
            who = route.recipients_in_words if route else "safeguarding lead"
            raise ActionRefused(f"Only a {who} of {locked.agency} can respond.")
        if ConferenceResponse.objects.filter(report=locked).exists():
            raise ActionRefused("This concern already has a response.")
        response = ConferenceResponse.objects.create(
            report=locked, responded_by=by, summary=summary
        )
        if locked.recorded_by_id != by.pk:
            notify_conference(locked, NoticeKind.CONFERENCE_RESPONSE, [locked.recorded_by])
        return response


# The session keeps whether the navigation offers conference concerns, for these roles, for as
# long as the recorder sectors are kept (RECORDER_SECTORS_SECONDS), for this generation of
# the ladders (ladders_generation): the
# answer reads the ladders, a query on every page of every lead and manager (issue 18).
CONFERENCE_LINK = "portal_conference_link"


def remember_conference_link(sender, request, user, **kwargs) -> None:
    """At sign-in (user_logged_in), so that the session is written with the sign-in and not by
    its first page."""
    person = person_for(user)
    if request is not None and person is not None:
        conference_link(request, person, list(person.memberships.all()))


def conference_link(request, person, memberships) -> bool:
    """sees_conference_concerns, kept in the session for these roles (any role given or
    removed asks again at once)."""
    roles = sorted([m.pk, m.role, m.agency_id or 0, m.partnership_id or 0] for m in memberships)
    session = getattr(request, "session", None)
    if session is None:
        return sees_conference_concerns(person)
    now, generation = int(time.time()), ladders_generation()
    kept = session.get(CONFERENCE_LINK)
    if (
        kept
        and kept.get("roles") == roles
        and kept.get("generation") == generation
        and now - kept.get("at", 0) < RECORDER_SECTORS_SECONDS
    ):
        return kept["shows"]
    shows = sees_conference_concerns(person)
    session[CONFERENCE_LINK] = {"roles": roles, "generation": generation, "at": now, "shows": shows}
    return shows
