"""Whose people and agencies someone administers: the one place for that rule.

SPEC section 2: the partnership administrator "maintains agencies, people, ladders, closure
days" of their partnership; issue 19 adds that an agency's safeguarding lead invites and removes
its practitioners and line managers. SPEC section 3 (need to know): an administrator sees the
people of their own partnership only, its agencies' people included, and so the people of an
agency it shares with another partnership (a police force), which both administer. Everything
else answers as a missing page (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from cases.models import Agency, Membership, Person
from cases.people import person_for
from policies.models import AGENCY_ROLES, PARTNERSHIP_ROLES, Partnership, Role


class Refused(Exception):
    """The change cannot be made; the message says why, in words for the administrator."""


class Can(StrEnum):
    """What a scope lets its holder do."""

    SEE_PEOPLE = "see people"
    INVITE = "invite"
    REMOVE = "remove roles and mark leavers"
    REASSIGN = "pass on a leaver's work"
    ADD_ROLES = "add and change roles"
    EDIT_PEOPLE = "change names and email addresses"
    RESET_SECOND_FACTOR = "reset second factors"
    AGENCIES = "add and edit agencies"
    CALENDAR = "closure days"
    DIRECTORY = "directory entries"
    IMPORT = "import and export people"
    RESEND_NOTICES = "see undelivered notices and send them again"


LEAD_CAN = frozenset({Can.SEE_PEOPLE, Can.INVITE, Can.REMOVE, Can.REASSIGN})
ADMIN_CAN = frozenset(Can)
# Issue 19, point 2: a safeguarding lead invites and removes the practitioners and line
# managers of their own agency; every other role is the partnership administrator's to give.
LEAD_ROLES = frozenset({Role.PRACTITIONER, Role.LINE_MANAGER})


@dataclass
class Scope:
    """A partnership (its administrators) or an agency (its safeguarding leads)."""

    by: Person
    partnership: Partnership | None = None
    agency: Agency | None = None
    agency_ids: frozenset[int] = frozenset()
    partnership_ids: frozenset[int] = frozenset()
    roles: frozenset[str] = frozenset()
    can: frozenset[Can] = frozenset()
    _agencies: list[Agency] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return (self.partnership or self.agency).name

    @property
    def base(self) -> str:
        """The URL every page of this scope lives under."""
        if self.partnership is not None:
            return f"/manage/partnerships/{self.partnership.slug}/"
        return f"/manage/agencies/{self.agency.pk}/"

    @property
    def is_partnership(self) -> bool:
        return self.partnership is not None

    def require(self, what: Can) -> None:
        if what not in self.can:
            raise Http404

    def agencies(self) -> list[Agency]:
        if self._agencies is None:
            self._agencies = list(Agency.objects.filter(pk__in=self.agency_ids).order_by("name"))
        return self._agencies

    def agency_roles(self) -> list[tuple[str, str]]:
        return [(r.value, r.label) for r in Role if r in AGENCY_ROLES and r in self.roles]

    def partnership_roles(self) -> list[tuple[str, str]]:
        if not self.partnership_ids:
            return []
        return [(r.value, r.label) for r in Role if r in PARTNERSHIP_ROLES and r in self.roles]

    def covers(self, membership) -> bool:
        """The membership (or invited role) is in this scope's agencies or partnership."""
        return (membership.agency_id in self.agency_ids) or (
            membership.partnership_id is not None
            and membership.partnership_id in self.partnership_ids
        )

    def manages(self, membership) -> bool:
        """This scope may give and take away that role there."""
        return self.covers(membership) and membership.role in self.roles

    def memberships(self) -> QuerySet[Membership]:
        return Membership.objects.filter(self.membership_condition())

    def membership_condition(self, prefix: str = "") -> Q:
        condition = Q(**{f"{prefix}agency__in": self.agency_ids})
        if self.partnership_ids:
            condition |= Q(**{f"{prefix}partnership__in": self.partnership_ids})
        return condition

    def people(self) -> QuerySet[Person]:
        """Everyone with a role in the scope, leavers included (their history stays)."""
        return Person.objects.filter(pk__in=self.memberships().values("person_id")).select_related(
            "user"
        )

    def person(self, pk: int) -> Person:
        """A person of the scope, memberships loaded; anyone else is a missing page."""
        person = (
            self.people()
            .prefetch_related("memberships__agency", "memberships__partnership")
            .filter(pk=pk)
            .first()
        )
        if person is None:
            raise Http404
        return person

    def whole(self, person: Person) -> bool:
        """Every role the person holds anywhere is this scope's to manage: only then may it
        act on the whole account (mark a leaver, reset the second factor, change the name or
        email). Someone with a role elsewhere too keeps it; only ours can be taken away."""
        memberships = list(person.memberships.all())
        return bool(memberships) and all(self.manages(m) for m in memberships)

    def audit_partnership_id(self) -> int | None:
        return self.partnership.pk if self.partnership else None


def scopes_of(person: Person | None) -> list[Scope]:
    """Every scope the person administers: their partnerships, then their agencies."""
    if person is None:
        return []
    memberships = list(person.memberships.all())
    found = [
        _partnership_scope(person, m.partnership)
        for m in memberships
        if m.partnership_id and m.role == Role.PARTNERSHIP_ADMIN
    ]
    found += [
        _agency_scope(person, m.agency)
        for m in memberships
        if m.agency_id and m.role == Role.SAFEGUARDING_LEAD
    ]
    return found


def administers_anything(person: Person | None) -> bool:
    """For the navigation: no query, the memberships are loaded with the person."""
    return person is not None and any(
        (m.partnership_id and m.role == Role.PARTNERSHIP_ADMIN)
        or (m.agency_id and m.role == Role.SAFEGUARDING_LEAD)
        for m in person.memberships.all()
    )


def _partnership_scope(person: Person, partnership: Partnership) -> Scope:
    return Scope(
        by=person,
        partnership=partnership,
        agency_ids=frozenset(
            Agency.objects.filter(partnerships=partnership).values_list("pk", flat=True)
        ),
        partnership_ids=frozenset({partnership.pk}),
        roles=frozenset(Role),
        can=ADMIN_CAN,
    )


def _agency_scope(person: Person, agency: Agency) -> Scope:
    return Scope(
        by=person, agency=agency, agency_ids=frozenset({agency.pk}), roles=LEAD_ROLES, can=LEAD_CAN
    )


def partnership_scope(request: HttpRequest, slug: str) -> Scope:
    """The partnership the signed-in person administers, by slug; else a missing page."""
    person = person_for(request.user)
    for m in person.memberships.all() if person else []:
        if m.partnership_id and m.role == Role.PARTNERSHIP_ADMIN and m.partnership.slug == slug:
            return _partnership_scope(person, m.partnership)
    raise Http404


def agency_scope(request: HttpRequest, agency_id: int) -> Scope:
    """The agency whose safeguarding lead the signed-in person is; else a missing page."""
    person = person_for(request.user)
    for m in person.memberships.all() if person else []:
        if m.agency_id == agency_id and m.role == Role.SAFEGUARDING_LEAD:
            return _agency_scope(person, m.agency)
    raise Http404
