"""Named people whose relationships are obvious from their names (healthchecks' hc/test.py).

Kirklees: Alice (practitioner) at Meadow School raises challenges with Northfold Children's
Social Care, where Erin is the practitioner. Bob manages Alice; Carol is the school's
safeguarding lead; Dan its head of service. Frank manages Erin; Grace is CSC's safeguarding
lead; Heidi its head of service. Ivan is Kirklees' business manager, Judy its chair, Kim its
administrator. Charlie is a practitioner at Kirklees Health with no part in anything.
Berkshire: Mallory is its business manager; Oscar a practitioner at Berkshire's school; the
Shared Constabulary belongs to both Kirklees and Berkshire, Pat is its safeguarding lead.
Robin runs a one-person voluntary group: practitioner, safeguarding lead and senior manager.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.models import Agency, Person, Sector
from policies.loading import load_ladders
from policies.models import Partnership, Role
from tests.factories.cases import AgencyFactory, PersonFactory


def make_person(username: str, full_name: str, *roles: tuple) -> Person:
    """A named person with their roles: (agency or partnership, role[, job title]) each."""
    return PersonFactory(user__username=username, full_name=full_name, roles=roles)


@dataclass
class World:
    kirklees: Partnership
    berkshire: Partnership
    pan_cheshire: Partnership
    playgroup: Partnership
    lincolnshire: Partnership
    school: Agency
    csc: Agency
    health: Agency
    constabulary: Agency
    berkshire_school: Agency
    smallsteps: Agency
    alice: Person
    bob: Person
    carol: Person
    dan: Person
    erin: Person
    frank: Person
    grace: Person
    heidi: Person
    ivan: Person
    judy: Person
    kim: Person
    charlie: Person
    mallory: Person
    oscar: Person
    pat: Person
    robin: Person


def build_world() -> World:
    load_ladders()
    p = {x.slug: x for x in Partnership.objects.all()}
    kirklees, berkshire = p["kirklees"], p["berkshire"]

    def agency(name, sector, *partnerships):
        return AgencyFactory(name=name, sector=sector, partnerships=partnerships)

    school = agency("Meadow School", Sector.EDUCATION, kirklees)
    csc = agency("Northfold Children's Social Care", Sector.CHILDRENS_SOCIAL_CARE, kirklees)
    health = agency("Kirklees Health", Sector.HEALTH, kirklees)
    constabulary = agency("Shared Constabulary", Sector.POLICE, kirklees, berkshire)
    berkshire_school = agency("Berkshire School", Sector.EDUCATION, berkshire)
    smallsteps = agency("Small Steps Group", Sector.VCF, kirklees)
    R = Role
    return World(
        kirklees=kirklees,
        berkshire=berkshire,
        pan_cheshire=p["pan-cheshire"],
        playgroup=p["playgroup"],
        lincolnshire=p["lincolnshire"],
        school=school,
        csc=csc,
        health=health,
        constabulary=constabulary,
        berkshire_school=berkshire_school,
        smallsteps=smallsteps,
        alice=make_person("alice", "Alice Able", (school, R.PRACTITIONER, "Class Teacher")),
        bob=make_person("bob", "Bob Baker", (school, R.LINE_MANAGER, "Deputy Head")),
        carol=make_person(
            "carol", "Carol Cole", (school, R.SAFEGUARDING_LEAD, "Designated Safeguarding Lead")
        ),
        dan=make_person("dan", "Dan Dale", (school, R.SENIOR_MANAGER, "Headteacher")),
        erin=make_person("erin", "Erin Earl", (csc, R.PRACTITIONER, "Social Worker")),
        frank=make_person("frank", "Frank Ford", (csc, R.LINE_MANAGER, "Team Manager")),
        grace=make_person("grace", "Grace Green", (csc, R.SAFEGUARDING_LEAD, "Safeguarding Lead")),
        heidi=make_person("heidi", "Heidi Hill", (csc, R.SENIOR_MANAGER, "Head of Service")),
        ivan=make_person(
            "ivan", "Ivan Ives", (kirklees, R.BUSINESS_MANAGER, "KSCP Business Unit Manager")
        ),
        judy=make_person("judy", "Judy Jones", (kirklees, R.CHAIR, "Independent Person")),
        kim=make_person(
            "kim", "Kim King", (kirklees, R.PARTNERSHIP_ADMIN, "Partnership Administrator")
        ),
        charlie=make_person("charlie", "Charlie Chase", (health, R.PRACTITIONER, "Health Visitor")),
        mallory=make_person(
            "mallory", "Mallory Moss", (berkshire, R.BUSINESS_MANAGER, "Business Manager")
        ),
        oscar=make_person("oscar", "Oscar Owen", (berkshire_school, R.PRACTITIONER, "Teacher")),
        pat=make_person(
            "pat", "Pat Parr", (constabulary, R.SAFEGUARDING_LEAD, "Detective Inspector")
        ),
        robin=make_person(
            "robin",
            "Robin Rowe",
            (smallsteps, R.PRACTITIONER, "Group Leader"),
            (smallsteps, R.SAFEGUARDING_LEAD, "Group Leader"),
            (smallsteps, R.SENIOR_MANAGER, "Group Leader"),
        ),
    )


def weaver_in_pan_cheshire(**more_people: tuple[str, str, str]) -> tuple:
    """A small invented Pan-Cheshire: Weaver School (Sam practitioner, Lee line manager, Sue
    senior manager) and Weaver Children's Social Care (Cal practitioner), plus any people
    given as username=(full name, place, role), place "school", "csc" or "partnership" for where the role is held.
    Returns (partnership, school, csc, people)."""
    from tests.factories import PartnershipFactory

    partnership = PartnershipFactory(slug="pan-cheshire")
    school = AgencyFactory(name="Weaver School", partnerships=[partnership])
    csc = AgencyFactory(
        name="Weaver Children's Social Care",
        sector=Sector.CHILDRENS_SOCIAL_CARE,
        partnerships=[partnership],
    )
    places = {"school": school, "csc": csc, "partnership": partnership}
    people = {
        "sam": make_person("sam", "Sam Stone", (school, "practitioner")),
        "lee": make_person("lee", "Lee Lake", (school, "line_manager")),
        "sue": make_person("sue", "Sue Senior", (school, "senior_manager")),
        "cal": make_person("cal", "Cal Care", (csc, "practitioner")),
    }
    for username, (full_name, place, role) in more_people.items():
        people[username] = make_person(username, full_name, (places[place], role))
    return partnership, school, csc, people
