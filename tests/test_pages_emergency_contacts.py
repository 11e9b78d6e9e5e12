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


def contacts_section(content: str) -> str:
    return content.split("Who to contact now")[1].split("</dl>")[0]


def test_berkshires_route_names_the_lead_as_the_policy_names_the_role_and_999(client, world):
    lead = make_person(
        "bea", "Bea Birch", (world.berkshire_school, Role.SAFEGUARDING_LEAD, "Designated Lead")
    )
    lead.phone = "01632 960123"
    lead.save()
    sign_in(client, world.oscar)
    section = contacts_section(emergency_page(client))
    # "the designated safeguarding lead/line manager in your agency should be informed
    # immediately" (Stage Five), by name, then "dial 999 and ask for Police assistance".
    row = section.split("The designated safeguarding lead / line manager in your agency")[1]
    row = row.split("</div>")[0]
    assert "Policy: Stage Five - Conclusion" in row
    assert "Bea Birch</strong>, Designated Lead" in row
    assert f'href="mailto:{lead.email}"' in row
    assert 'href="tel:01632960123"' in row
    assert "Police: dial 999 and ask for police assistance" in section
    assert 'href="tel:999"' in section


def test_kirklees_route_gives_duty_and_advice_and_999_with_their_sources(client, world):
    sign_in(client, world.alice)
    section = contacts_section(emergency_page(client))
    assert 'href="tel:01484414960"' in section
    assert 'href="tel:999"' in section
    assert "Policy: Appendix 1: Escalation framework at point of referral" in section


def test_lincolnshire_and_playgroup_name_the_people_their_policies_name_and_no_number(
    client, world
):
    school = AgencyFactory(
        name="Fenland Academy", sector=Sector.EDUCATION, partnerships=[world.lincolnshire]
    )
    make_person("slo", "Sam Lowe", (school, Role.SENIOR_MANAGER, "Senior Liaison Officer"))
    sign_in(client, make_person("lin", "Lin Lee", (school, Role.PRACTITIONER, "Teacher")))
    section = contacts_section(emergency_page(client))
    assert "Your agency&#x27;s Senior Liaison Officer (SLO)" in section
    assert "Sam Lowe</strong>, Senior Liaison Officer" in section
    # No line manager is recorded: said plainly, not left blank.
    assert "No one in Fenland Academy holds this role in the portal" in section
    # The policy prints no number and does not mention 999: none is invented.
    assert "tel:" not in section

    client.logout()
    group = AgencyFactory(name="Acorn Playgroup", sector=Sector.VCF, partnerships=[world.playgroup])
    make_person("pm", "Pip Mann", (group, Role.LINE_MANAGER, "Playgroup Manager"))
    sign_in(client, make_person("pw", "Pia Ward", (group, Role.PRACTITIONER, "Worker")))
    section = contacts_section(emergency_page(client))
    assert "The Playgroup Manager" in section
    assert "Pip Mann</strong>, Playgroup Manager" in section
    assert "tel:" not in section


def test_pan_cheshire_says_plainly_when_no_number_is_set_and_warns_its_administrator(client, world):
    school = AgencyFactory(
        name="Riverside Primary", sector=Sector.EDUCATION, partnerships=[world.pan_cheshire]
    )
    csc = AgencyFactory(
        name="Cheshire Children's Services",
        sector=Sector.CHILDRENS_SOCIAL_CARE,
        partnerships=[world.pan_cheshire],
    )
    admin = make_person(
        "ada", "Ada Ames", (world.pan_cheshire, Role.PARTNERSHIP_ADMIN, "Administrator")
    )
    sign_in(client, admin)
    overview = client.get("/manage/partnerships/pan-cheshire/").content.decode()
    assert "The emergency route has no phone number for Children" in overview
    assert 'href="/manage/partnerships/pan-cheshire/agencies/"' in overview
    client.logout()

    teacher = make_person("tia", "Tia Thorn", (school, Role.PRACTITIONER, "Class Teacher"))
    sign_in(client, teacher)
    section = contacts_section(emergency_page(client))
    assert "Children&#x27;s Social Care Contact and Referral Team" in section
    assert "No phone number has been set for this." in section
    assert "tel:" not in section
    client.logout()

    # The administrator sets it; the warning goes and the number is there to ring.
    csc.safeguarding_contact_phone = "01632 960 004"
    csc.save()
    sign_in(client, admin)
    overview = client.get("/manage/partnerships/pan-cheshire/").content.decode()
    assert "The emergency route has no phone number" not in overview
    client.logout()
    sign_in(client, teacher)
    section = contacts_section(emergency_page(client))
    assert 'href="tel:01632960004"' in section
    assert "No phone number has been set" not in section


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
    section = contacts_section(emergency_page(client))
    # The policy's own team, with the number kept for the partnership's children's social
    # care, ready to ring.
    assert "Children&#x27;s Social Care Contact and Referral Team" in section
    assert 'href="tel:01632960001"' in section
    assert 'href="mailto:referrals@cheshire.invalid"' in section


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
