"""Who a case-system token acts as: its agency's safeguarding lead, and no one in particular.

SPEC section 3 lets an agency's safeguarding lead see every escalation to which the agency is a
party (raising or receiving). A token must see exactly that, and not a row more: not the
escalations a real lead sees because they raised or hold one themselves, nor what any
partnership role of theirs opens. So the token is given a person that exists only in memory,
holding one role, safeguarding lead of the token's agency, and is asked about through the same
Escalation.objects.visible_to as every page: the rule keeps its one home.

The in-memory person's id is -1, which no saved person can have (ids start at 1), so the
"takes part" half of visible_to (raised it, holds it, was added) matches nothing."""

from __future__ import annotations

from cases.models import Membership, Person
from policies.models import Role

NO_ONE = -1


def lead_view_person(agency) -> Person:
    """An unsaved person with one membership: safeguarding lead of this agency."""
    person = Person(pk=NO_ONE, full_name=f"Case system of {agency.name}", email="")
    membership = Membership(person=person, agency=agency, role=Role.SAFEGUARDING_LEAD)
    memberships = Membership.objects.none()
    memberships._result_cache = [membership]
    memberships._prefetch_done = True
    person._prefetched_objects_cache = {"memberships": memberships}
    return person


class CaseSystem:
    """request.user for an API request authenticated by a token (api.authentication)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, token):
        self.token = token
        self.agency = token.agency
        # cases.people.person_for reads the person cached here, as for a signed-in user.
        self._portal_person = lead_view_person(token.agency)

    def get_username(self) -> str:
        return f"case system: {self.token.name} ({self.token.prefix}…, {self.agency.name})"

    def is_verified(self) -> bool:
        # A token is a single strong secret held by a system, not a password: no second factor.
        return True

    def __str__(self) -> str:
        return self.get_username()
