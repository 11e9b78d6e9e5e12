"""Who may see an escalation, written from SPEC section 3 alone, never from the app's code.

The isolation matrix asks the portal and this oracle the same question for every person and
every escalation and expects the same answer. Facts are plain values so that nothing here can
borrow the app's own rules (visible_to, permissions, partnership_sees_record).

SPEC section 3, rule by rule:
- A practitioner sees escalations in which they take part: raised it, are challenged in it,
  hold it now, or were added to it.
- Managers, safeguarding leads and senior roles of an agency see every escalation to which
  their agency is a party (raising or receiving).
- Partnership roles see the full record only once an escalation reaches the stage at which that
  partnership's policy brings the partnership in, or when a party shares it with them.
- Nobody sees another partnership's data unless their agency is a party.
Plus, from SPEC section 4 and issue 8: a draft is its raiser's alone; nobody signed out,
deactivated, or without a verified second factor sees anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Role names as SPEC section 2 lists them.
PRACTITIONER = "practitioner"
AGENCY_OVERSIGHT = frozenset({"line_manager", "safeguarding_lead", "senior_manager"})
PARTNERSHIP_ROLES = frozenset({"business_manager", "chair", "partnership_admin"})


@dataclass(frozen=True)
class PersonFacts:
    id: int
    active: bool = True
    second_factor_verified: bool = True
    # (role, agency id) and (role, partnership id) pairs.
    agency_roles: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    partnership_roles: frozenset[tuple[str, int]] = field(default_factory=frozenset)


@dataclass(frozen=True)
class EscalationFacts:
    partnership: int
    raising_agency: int
    receiving_agency: int
    raised_by: int
    challenged: int | None = None  # the receiving practitioner, where known
    holder: int | None = None
    added: frozenset[int] = frozenset()
    draft: bool = False
    reached_partnership_stage: bool = False  # ever, on its partnership's ladder
    shared_with_partnership: bool = False


def takes_part(person: PersonFacts, esc: EscalationFacts) -> bool:
    return person.id in {esc.raised_by, esc.challenged, esc.holder} or person.id in esc.added


def may_see(person: PersonFacts | None, esc: EscalationFacts) -> bool:
    if person is None or not person.active or not person.second_factor_verified:
        return False
    if esc.draft:
        return person.id == esc.raised_by
    if takes_part(person, esc):
        return True
    parties = {esc.raising_agency, esc.receiving_agency}
    if any(role in AGENCY_OVERSIGHT and agency in parties for role, agency in person.agency_roles):
        return True
    partnership_sees = esc.reached_partnership_stage or esc.shared_with_partnership
    return partnership_sees and any(
        role in PARTNERSHIP_ROLES and partnership == esc.partnership
        for role, partnership in person.partnership_roles
    )


@dataclass(frozen=True)
class AuditEntryFacts:
    partnership: int | None
    agencies: frozenset[int]


def may_read_audit_entry(person: PersonFacts | None, entry: AuditEntryFacts) -> bool:
    """Issue 8: safeguarding leads see the log for their agency's escalations; partnership
    administrators for their partnership."""
    if person is None or not person.active or not person.second_factor_verified:
        return False
    if any(r == "safeguarding_lead" and a in entry.agencies for r, a in person.agency_roles):
        return True
    return any(
        r == "partnership_admin" and p == entry.partnership for r, p in person.partnership_roles
    )


def may_open_audit_log(person: PersonFacts | None) -> bool:
    if person is None or not person.active or not person.second_factor_verified:
        return False
    return any(r == "safeguarding_lead" for r, _ in person.agency_roles) or any(
        r == "partnership_admin" for r, _ in person.partnership_roles
    )


def may_use_admin(person: PersonFacts | None, *, staff: bool) -> bool:
    """The Django admin is for the portal's own staff accounts, never a route to records."""
    return bool(person and person.active and person.second_factor_verified and staff)


def may_open_partnership_figures(person: PersonFacts | None, partnership: int) -> bool:
    """The partnership's dashboards, figure lists, report, annual return and their exports.

    SPEC section 3: "Partnership roles see aggregate figures for all escalations of their
    partnership, and the full record (child identifiers included) only once an escalation
    reaches the stage at which that partnership's policy brings the partnership in [...], or
    when a party shares it with them." and "Nobody sees another partnership's data unless their
    agency is a party." SPEC section 9 ("Dashboards (partnership business managers)") and the
    business manager's row in section 2 ("keeps the partnership's record; dashboards") say whom
    the dashboards are for; section 3 is the rule for who may see the figures: every
    partnership role of that partnership, nobody else (agency roles included: their agency
    being a party opens that escalation's record, not the partnership's figures).

    Which rows of a list show a reference (and so the child) is may_see's answer."""
    if person is None or not person.active or not person.second_factor_verified:
        return False
    return any(
        role in PARTNERSHIP_ROLES and p == partnership for role, p in person.partnership_roles
    )


# --- Running a partnership (issue 19) -----------------------------------------------------------
# SPEC section 2: the partnership administrator "maintains agencies, people, ladders, closure
# days"; issue 19: an agency's safeguarding lead invites and removes that agency's practitioners
# and line managers. SPEC section 3: an administrator of one partnership never sees another's
# people, except those of an agency both partnerships share. A scope is ("partnership", id) or
# ("agency", id); agency_partnerships maps each agency to the partnerships it belongs to.
LEAD_MANAGES = frozenset({"practitioner", "line_manager"})
# What a lead's scope offers (issue 19, point 2); a partnership's offers everything.
LEAD_PAGES = frozenset(
    {"overview", "people", "invite", "invitations", "person", "roles/add", "leaver", "pass-on"}
)


def signed_in_fully(person: PersonFacts | None) -> bool:
    return bool(person and person.active and person.second_factor_verified)


def administers(person: PersonFacts | None, scope: tuple[str, int]) -> bool:
    if not signed_in_fully(person):
        return False
    kind, key = scope
    if kind == "partnership":
        return ("partnership_admin", key) in person.partnership_roles
    return ("safeguarding_lead", key) in person.agency_roles


def role_in_scope(role: tuple[str, int], kind_of_place: str, scope, agency_partnerships) -> bool:
    kind, key = scope
    _, place = role
    if kind == "partnership":
        if kind_of_place == "agency":
            return key in agency_partnerships.get(place, frozenset())
        return place == key
    return kind_of_place == "agency" and place == key


def in_scope(target: PersonFacts, scope, agency_partnerships) -> bool:
    return any(
        role_in_scope(r, "agency", scope, agency_partnerships) for r in target.agency_roles
    ) or any(
        role_in_scope(r, "partnership", scope, agency_partnerships)
        for r in target.partnership_roles
    )


def whole_in_scope(target: PersonFacts, scope, agency_partnerships) -> bool:
    """Every role the target holds is the scope's to manage: only then may it act on the whole
    account (a leaver, a second factor, a name)."""
    roles = [(r, "agency") for r in target.agency_roles] + [
        (r, "partnership") for r in target.partnership_roles
    ]
    manages = (lambda name: True) if scope[0] == "partnership" else LEAD_MANAGES.__contains__
    return bool(roles) and all(
        role_in_scope(r, kind, scope, agency_partnerships) and manages(r[0]) for r, kind in roles
    )


def may_open_scope_page(person: PersonFacts | None, scope, page: str) -> bool:
    return administers(person, scope) and (scope[0] == "partnership" or page in LEAD_PAGES)


def may_open_person_page(
    person: PersonFacts | None, scope, page: str, target: PersonFacts, agency_partnerships
) -> bool:
    if not may_open_scope_page(person, scope, page) or not in_scope(
        target, scope, agency_partnerships
    ):
        return False
    if page in ("edit", "second-factor", "leaver"):
        return target.active and whole_in_scope(target, scope, agency_partnerships)
    if page == "roles/add":
        return target.active
    return True


def may_remove_role(
    person: PersonFacts | None, scope, role: tuple[str, int], kind: str, target, agency_partnerships
) -> bool:
    """One of the target's roles: the scope's to take away (a lead: a practitioner's or line
    manager's of their agency), while the target has not left (a leaver's roles are kept)."""
    manages = scope[0] == "partnership" or role[0] in LEAD_MANAGES
    return (
        may_open_scope_page(person, scope, "leaver")
        and target.active
        and manages
        and role_in_scope(role, kind, scope, agency_partnerships)
    )


def may_read_administrative_entry(
    person: PersonFacts | None,
    partnership: int | None,
    agencies: frozenset[int],
    agency_partnerships,
) -> bool:
    """A change to people or agencies: the administrators of its partnership and of every
    partnership of the agencies it names, and those agencies' safeguarding leads."""
    if not signed_in_fully(person):
        return False
    partnerships = {partnership} | {
        p for a in agencies for p in agency_partnerships.get(a, frozenset())
    }
    return any(
        r == "partnership_admin" and p in partnerships for r, p in person.partnership_roles
    ) or any(r == "safeguarding_lead" and a in agencies for r, a in person.agency_roles)
