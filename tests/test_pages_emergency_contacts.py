"""Acting in an emergency (issue 17, points 11-12): the emergency route gives contacts a person
can act on now (the policy's services, the raiser's own safeguarding lead by name, children's
social care's numbers where kept); the directory shows phone and email where known.
All numbers and addresses are invented (Ofcom's drama range)."""

from cases.models import Sector
from policies.models import Role
from tests.factories import AgencyFactory
from tests.helpers import sign_in
from tests.personas import make_person


def emergency_page(client) -> str:
    response = client.post("/raise/")
    draft_url = response["Location"].rsplit("/", 2)[0]
    response = client.post(f"{draft_url}/immediate-risk/", {"immediate_risk": "yes"})
    assert response["Location"].endswith("/emergency/")
    return client.get(response["Location"]).content.decode()


def test_berkshires_route_names_the_raisers_safeguarding_lead_and_999(client, world):
    lead = make_person(
        "bea", "Bea Birch", (world.berkshire_school, Role.SAFEGUARDING_LEAD, "Designated Lead")
    )
    sign_in(client, world.oscar)
    content = emergency_page(client)
    assert 'href="tel:999"' in content
    section = content.split("In Berkshire School")[1].split("</dl>")[0]
    assert "Bea Birch</strong>, Designated Lead" in section
    assert f'href="mailto:{lead.email}"' in section


def test_pan_cheshires_route_gives_childrens_social_cares_number_where_it_is_kept(client, world):
    school = AgencyFactory(
        name="Riverside Primary", sector=Sector.EDUCATION, partnerships=[world.pan_cheshire]
    )
    AgencyFactory(
        name="Cheshire Children's Services",
        sector=Sector.CHILDRENS_SOCIAL_CARE,
        partnerships=[world.pan_cheshire],
        safeguarding_contact_name="Contact and Referral Team",
        safeguarding_contact_phone="01632 960 001",
        safeguarding_contact_email="referrals@cheshire.invalid",
    )
    sign_in(client, make_person("tia", "Tia Thorn", (school, Role.PRACTITIONER, "Class Teacher")))
    content = emergency_page(client)
    # The policy's own team is listed, saying it prints no number, and the number kept for
    # the partnership's children's social care is given, ready to ring.
    assert "The policy gives no number: see children's social care below" in content
    assert 'href="tel:01632960001"' in content
    assert 'href="mailto:referrals@cheshire.invalid"' in content


def test_the_directory_shows_email_and_the_agencies_phone_numbers(client, world):
    world.csc.safeguarding_contact_name = "Front Door"
    world.csc.safeguarding_contact_phone = "01632 960 002"
    world.csc.safeguarding_contact_email = "frontdoor@northfold.invalid"
    world.csc.save()
    sign_in(client, world.alice)
    content = client.get("/directory/").content.decode()
    assert f'href="mailto:{world.erin.email}"' in content
    contacts = content.split("Agencies' safeguarding contacts")[1].split("</table>")[0]
    assert "Front Door" in contacts
    assert 'href="tel:01632960002"' in contacts
    assert 'href="mailto:frontdoor@northfold.invalid"' in contacts
