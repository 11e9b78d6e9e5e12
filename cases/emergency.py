"""The emergency route's contacts, made into people and numbers a person can act on now
(issue 17, point 11). The ladder file gives each contact as its policy does (ADR 0019): a number
the policy prints, the people it names by role in the raiser's own agency, or a service it names
without a number, whose number is the one the partnership's administrators keep for its
children's social care. No number is invented: where none is kept the page says so, and the
partnership administrator's overview warns until one is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cases.models import Agency, Membership, Sector
from policies.models import Partnership


@dataclass
class Contact:
    name: str
    source: dict
    phone: str = ""
    people: list[Membership] = field(default_factory=list)
    agencies: list[Agency] = field(default_factory=list)
    # The policy names a service without a number and the partnership keeps none for it.
    number_not_set: bool = False
    # The policy names people in the raiser's agency and no one there holds that role.
    nobody_in_role: bool = False


def social_care_contacts(partnership: Partnership) -> list[Agency]:
    """The partnership's children's social care agencies with a safeguarding number or email."""
    return list(
        Agency.objects.filter(partnerships=partnership, sector=Sector.CHILDRENS_SOCIAL_CARE)
        .exclude(safeguarding_contact_phone="", safeguarding_contact_email="")
        .order_by("name")
    )


def contacts_for(partnership: Partnership, agency: Agency | None) -> list[Contact]:
    """Each contact of the partnership's emergency route, resolved for someone in `agency`."""
    social_care: list[Agency] | None = None
    resolved = []
    for entry in partnership.emergency_contacts:
        contact = Contact(
            name=entry["name"], source=entry.get("source") or {}, phone=entry.get("phone", "")
        )
        roles = entry.get("in_your_agency") or []
        if roles and agency is not None:
            contact.people = list(
                Membership.objects.filter(
                    agency=agency, role__in=roles, person__user__is_active=True
                )
                .select_related("person")
                .order_by("person__full_name")
            )
            # In the order the policy names the roles (the lead before the line manager).
            contact.people.sort(key=lambda m: roles.index(m.role))
            contact.nobody_in_role = not contact.people
        if entry.get("number_from") == "childrens_social_care":
            if social_care is None:
                social_care = social_care_contacts(partnership)
            contact.agencies = [a for a in social_care if a.safeguarding_contact_phone]
            contact.number_not_set = not contact.agencies
        resolved.append(contact)
    return resolved


def numbers_not_set(partnership: Partnership) -> list[str]:
    """The services the partnership's emergency route names whose number no one has set: the
    warning on the partnership administrator's overview."""
    wanted = [
        c["name"]
        for c in partnership.emergency_contacts
        if c.get("number_from") == "childrens_social_care"
    ]
    if not wanted:
        return []
    if any(a.safeguarding_contact_phone for a in social_care_contacts(partnership)):
        return []
    return wanted
