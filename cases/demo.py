"""Invented demo agencies and people for every role in each partnership. No real people."""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from cases.models import Agency, Membership, Person, Sector
from policies.models import Partnership, Role

DEMO_PASSWORD = "demo-password-2026"

# Per partnership: (key, name pattern, sector). {area} is the partnership's short area name.
AGENCIES = [
    ("csc", "{area} Children's Social Care", Sector.CHILDRENS_SOCIAL_CARE),
    ("school", "{area} Meadowbank Primary School", Sector.EDUCATION),
    ("health", "{area} Community Health Services", Sector.HEALTH),
    ("vcf", "{area} Open Door Family Project", Sector.VCF),
]
# One police force spans two partnerships, as real forces do.
SHARED = {("pan-cheshire", "berkshire"): ("police", "Demo Constabulary (shared)", Sector.POLICE)}
AREAS = {
    "kirklees": "Kirklees",
    "pan-cheshire": "Cheshire",
    "berkshire": "Berkshire",
    "lincolnshire": "Lincolnshire",
    "playgroup": "Little Acorns",
}
AGENCY_JOB_TITLES = {
    Role.PRACTITIONER: "Practitioner",
    Role.LINE_MANAGER: "Team Manager",
    Role.SAFEGUARDING_LEAD: "Designated Safeguarding Lead",
    Role.SENIOR_MANAGER: "Head of Service",
}
PARTNERSHIP_JOB_TITLES = {
    Role.BUSINESS_MANAGER: "Partnership Business Manager",
    Role.CHAIR: "Independent Chair",
    Role.PARTNERSHIP_ADMIN: "Partnership Administrator",
}
GIVEN = [
    "Alex",
    "Bea",
    "Cal",
    "Dee",
    "Eli",
    "Fen",
    "Gus",
    "Hana",
    "Ivo",
    "Jo",
    "Kit",
    "Lou",
    "Max",
    "Nia",
    "Oli",
    "Pip",
    "Quin",
    "Ria",
    "Sol",
    "Tam",
    "Uma",
    "Vic",
    "Wyn",
    "Yas",
    "Zac",
]
FAMILY = [
    "Ashdown",
    "Brackley",
    "Corrin",
    "Dunmore",
    "Elstow",
    "Farrow",
    "Garside",
    "Holloway",
    "Inchley",
    "Jessop",
    "Kettle",
    "Lumley",
    "Marlow",
    "Norcott",
    "Orwin",
    "Pellow",
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    role: str
    where: str


def _username(partnership: Partnership, key: str, role: str) -> str:
    return f"{partnership.reference_prefix.lower()}-{key}-{role.replace('_', '-')}"


def _name(n: int) -> str:
    return f"{GIVEN[n % len(GIVEN)]} {FAMILY[(n // len(GIVEN) + n) % len(FAMILY)]}"


@functools.lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    # Hash once: a hundred password hashes would take the best part of a minute.
    return make_password(DEMO_PASSWORD)


def _demo_mobile(n: int) -> str:
    """An invented mobile in Ofcom's range for drama (07700 900000 to 900999), never a real one."""
    return f"+447700900{n % 1000:03d}"


def _person(username: str, full_name: str, mobile: str = "") -> Person:
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=username,
        defaults={"email": f"{username}@demo.invalid", "password": _demo_password_hash()},
    )
    person, _ = Person.objects.get_or_create(
        user=user,
        defaults={
            "full_name": full_name,
            "email": user.email,
            "mobile": mobile,
            "phone": _demo_phone(username),
        },
    )
    if not person.phone:  # demo data loaded before people had a work phone
        person.phone = _demo_phone(username)
        person.save(update_fields=["phone"])
    return person


def _demo_phone(username: str) -> str:
    """An invented work phone from Ofcom's ranges kept for drama (01632 960xxx, 07700 900xxx),
    the same for a username on every run, so no demo number can ring anyone."""
    n = zlib.crc32(username.encode()) % 2000
    return f"01632 960{n % 1000:03d}" if n < 1000 else f"07700 900{n % 1000:03d}"


def agencies_for(partnership: Partnership) -> list[tuple[str, Agency]]:
    area = AREAS.get(partnership.slug, partnership.name.split()[0])
    result = []
    for key, pattern, sector in AGENCIES:
        agency, _ = Agency.objects.get_or_create(
            name=pattern.format(area=area), defaults={"sector": sector}
        )
        agency.partnerships.add(partnership)
        result.append((key, agency))
    for slugs, (key, name, sector) in SHARED.items():
        if partnership.slug in slugs:
            agency, _ = Agency.objects.get_or_create(name=name, defaults={"sector": sector})
            agency.partnerships.add(partnership)
            result.append((key, agency))
    return result


@transaction.atomic
def seed_people() -> list[DemoLogin]:
    """Idempotent: creates what is missing, changes nothing that exists."""
    logins = []
    counter = 0
    for partnership in Partnership.objects.order_by("slug"):
        for key, agency in agencies_for(partnership):
            for role, title in AGENCY_JOB_TITLES.items():
                counter += 1
                username = (
                    f"shared-{key}-{role.replace('_', '-')}"
                    if agency.partnerships.count() > 1
                    else _username(partnership, key, role)
                )
                # Safeguarding leads get immediate-risk alerts: they have a (made-up) mobile.
                mobile = _demo_mobile(counter) if role == Role.SAFEGUARDING_LEAD else ""
                person = _person(username, _name(counter), mobile)
                Membership.objects.get_or_create(
                    person=person, agency=agency, role=role, defaults={"job_title": title}
                )
                logins.append(DemoLogin(username, person.full_name, Role(role).label, agency.name))
        for role, title in PARTNERSHIP_JOB_TITLES.items():
            counter += 1
            username = _username(partnership, "partnership", role)
            person = _person(username, _name(counter))
            Membership.objects.get_or_create(
                person=person, partnership=partnership, role=role, defaults={"job_title": title}
            )
            logins.append(DemoLogin(username, person.full_name, Role(role).label, partnership.name))
    # A one-person voluntary setting where the practitioner is also the designated lead.
    kirklees = Partnership.objects.filter(slug="kirklees").first()
    if kirklees:
        agency, _ = Agency.objects.get_or_create(
            name="Kirklees Small Steps Community Group", defaults={"sector": Sector.VCF}
        )
        agency.partnerships.add(kirklees)
        person = _person("kir-smallsteps-lead", "Robin Whitacre")
        for role in (Role.PRACTITIONER, Role.SAFEGUARDING_LEAD, Role.SENIOR_MANAGER):
            Membership.objects.get_or_create(
                person=person,
                agency=agency,
                role=role,
                defaults={"job_title": "Group Leader and Designated Safeguarding Lead"},
            )
        logins.append(
            DemoLogin(
                person.user.username,
                person.full_name,
                "Practitioner, safeguarding lead and senior manager",
                agency.name,
            )
        )
    return logins


# The first screen of `make run`: each role once, each partnership at least once, the agency
# shared by two partnerships and the one person holding three roles.
FEATURED = [
    "kir-school-practitioner",
    "kir-school-line-manager",
    "kir-school-safeguarding-lead",
    "kir-csc-senior-manager",
    "kir-partnership-business-manager",
    "brk-partnership-chair",
    "lin-partnership-partnership-admin",
    "ply-school-line-manager",
    "shared-police-practitioner",
    "kir-smallsteps-lead",
]


def demo_logins(usernames: list[str] | None = None) -> list[DemoLogin]:
    """The demo accounts as they are now (for printing): one row per person and place, a
    person's several roles there in one row. Only `usernames`, in that order, if given."""
    memberships = (
        Membership.objects.filter(person__user__email__endswith="@demo.invalid")
        .select_related("person__user", "agency", "partnership")
        .prefetch_related("agency__partnerships")
        .order_by("person__user__username", "id")
    )
    if usernames is not None:
        memberships = memberships.filter(person__user__username__in=usernames)
    rows: dict[tuple[str, str], DemoLogin] = {}
    for m in memberships:
        key = (m.person.user.username, _where(m))
        role = m.get_role_display()
        if key in rows:
            role = f"{rows[key].role}, {role[0].lower()}{role[1:]}"
        rows[key] = DemoLogin(key[0], m.person.full_name, role, key[1])
    ordered = list(rows.values())
    if usernames is not None:
        ordered.sort(key=lambda row: usernames.index(row.username))
    return ordered


def _where(membership: Membership) -> str:
    if membership.partnership is not None:
        return f"{membership.partnership.slug.title()} partnership"
    partnerships = sorted(p.slug.title() for p in membership.agency.partnerships.all())
    if len(partnerships) > 1:
        return f"{membership.agency.name}: {' and '.join(partnerships)}"
    return membership.agency.name
