"""Finding things (issue 17, points 1-3): the dashboard in the navigation of those who see a
partnership's figures; challenges raised with my agency on the home page, soonest due first;
conference concerns offered only where the partnership's ladder defines them."""

from datetime import date

from cases.models import Sector
from escalations import services
from policies.models import Role
from tests.factories import AgencyFactory, OpenEscalationFactory
from tests.helpers import sign_in
from tests.personas import make_person


def nav(client) -> str:
    content = client.get("/").content.decode()
    return content.split('id="navigation"')[1].split("</ul>")[0]


def test_a_business_manager_has_their_dashboard_in_the_navigation(client, world):
    sign_in(client, world.ivan)
    assert 'href="/partnerships/kirklees/dashboard/"' in nav(client)
    sign_in(client, world.mallory)
    assert 'href="/partnerships/berkshire/dashboard/"' in nav(client)


def test_a_practitioner_has_no_dashboard_link(client, world):
    sign_in(client, world.alice)
    assert "Dashboard" not in nav(client)


def test_the_dashboard_is_marked_as_the_current_section_on_its_page(client, world):
    sign_in(client, world.ivan)
    content = client.get("/partnerships/kirklees/dashboard/").content.decode()
    current = content.split('aria-current="true"')[1].split("</a>")[0]
    assert "Dashboard" in current


def test_challenges_raised_with_my_agency_are_on_the_home_page_soonest_due_first(client, world):
    later = OpenEscalationFactory(initial_discussion_on=date(2026, 11, 20))
    sooner = OpenEscalationFactory(initial_discussion_on=date(2026, 11, 2))
    # Erin, the social worker the challenges name, sees both, soonest due first.
    sign_in(client, world.erin)
    content = client.get("/").content.decode()
    section = content.split("Challenges raised with my agency")[1].split("</table>")[0]
    assert section.index(sooner.reference) < section.index(later.reference)
    assert "Meadow School" in section
    # Alice, who raised them, finds them under what she raised, not as waiting for her.
    sign_in(client, world.alice)
    content = client.get("/").content.decode()
    mine = content.split("Challenges raised with my agency")[1].split("Challenges I raised")[0]
    assert sooner.reference not in mine
    assert sooner.reference in content.split("Challenges I raised")[1]


def test_a_practitioner_whose_agency_has_no_challenge_is_told_so(client, world):
    sign_in(client, world.charlie)
    content = client.get("/").content.decode()
    assert "No open challenge to your agency is waiting for you." in content


def pan_cheshire_lead(world):
    school = AgencyFactory(
        name="Riverside Primary", sector=Sector.EDUCATION, partnerships=[world.pan_cheshire]
    )
    csc = AgencyFactory(
        name="Cheshire Children's Services",
        sector=Sector.CHILDRENS_SOCIAL_CARE,
        partnerships=[world.pan_cheshire],
    )
    lead = make_person("lena", "Lena Lark", (school, Role.SAFEGUARDING_LEAD, "DSL"))
    social_worker = make_person("sol", "Sol Stone", (csc, Role.PRACTITIONER, "Social Worker"))
    return lead, social_worker


def test_conference_concerns_are_offered_only_where_the_ladder_defines_them(client, world):
    lead, social_worker = pan_cheshire_lead(world)
    # Pan-Cheshire's ladder has no conference concerns: neither its lead nor its social
    # worker (a sector that records them in Kirklees) is offered the page.
    for person in (lead, social_worker):
        sign_in(client, person)
        assert "Conference concerns" not in nav(client)
    # Kirklees' ladder has Appendix 3: its leads and its social workers are offered it.
    for person in (world.carol, world.erin):
        sign_in(client, person)
        assert "Conference concerns" in nav(client)
    # A Kirklees practitioner at a school neither records nor receives them.
    sign_in(client, world.alice)
    assert "Conference concerns" not in nav(client)


def test_the_challenged_section_reaches_a_receiving_lead(client, world):
    escalation = OpenEscalationFactory(
        child=services.ChildDetails(
            home_partnership=world.kirklees, family_name="Brook", given_names="Ada"
        )
    )
    sign_in(client, world.grace)
    section = client.get("/").content.decode().split("Challenges raised with my agency")[1]
    assert escalation.reference in section.split("</table>")[0]
