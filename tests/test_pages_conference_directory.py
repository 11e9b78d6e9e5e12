"""Kirklees conference concerns (Appendix 3) and the directory."""

import pytest

from escalations.conference import ConferenceReport
from policies.loading import load_directory
from tests.helpers import sign_in

CONCERN = {
    "meeting_on-day": "2",
    "meeting_on-month": "11",
    "meeting_on-year": "2026",
    "family_identifier": "Testwell family",
    "chair_name": "Erin Earl",
    "agency_representative": "Not known",
    "reason": "report_late",
    "details": "The school's report arrived on the morning of the conference.",
}


def test_a_conference_chair_records_a_concern_and_the_agencys_lead_responds(client, world):
    sign_in(client, world.erin)
    response = client.post("/conference/new/", {**CONCERN, "agency": world.school.pk})
    report = ConferenceReport.objects.get()
    assert response["Location"] == f"/conference/{report.pk}/"
    sign_in(client, world.carol)
    page = client.get(f"/conference/{report.pk}/").content.decode()
    assert "Testwell family" in page
    assert "Send response" in page
    client.post(f"/conference/{report.pk}/", {"summary": "Reports now go a week ahead."})
    report.refresh_from_db()
    assert report.response.summary == "Reports now go a week ahead."
    sign_in(client, world.erin)
    assert b"Reports now go a week ahead." in client.get(f"/conference/{report.pk}/").content


def test_only_childrens_social_care_records_conference_concerns(client, world):
    sign_in(client, world.alice)
    assert client.get("/conference/new/").status_code == 403


def test_a_conference_concern_is_seen_only_by_the_chair_and_the_agencys_lead_and_managers(
    client, world
):
    sign_in(client, world.erin)
    client.post("/conference/new/", {**CONCERN, "agency": world.school.pk})
    report = ConferenceReport.objects.get()
    for person, status in [
        (world.bob, 200),
        (world.alice, 404),
        (world.charlie, 404),
        (world.grace, 404),
    ]:
        sign_in(client, person)
        assert client.get(f"/conference/{report.pk}/").status_code == status, person


def test_a_conference_concern_form_explains_what_is_missing(client, world):
    sign_in(client, world.erin)
    content = client.post("/conference/new/", {"chair_name": "Erin Earl"}).content.decode()
    assert 'href="#id_meeting_on-day">Enter the date of the conference' in content
    assert "Enter the family name or identifying factors" in content
    assert "Select the agency" in content
    assert "Select the reason for the escalation" in content


def test_a_manager_cannot_respond_for_the_lead(client, world):
    sign_in(client, world.erin)
    client.post("/conference/new/", {**CONCERN, "agency": world.school.pk})
    report = ConferenceReport.objects.get()
    sign_in(client, world.bob)
    assert b"Send response" not in client.get(f"/conference/{report.pk}/").content
    assert client.post(f"/conference/{report.pk}/", {"summary": "x"}).status_code == 403


def test_the_directory_lists_people_of_the_partnerships_agencies(client, world):
    sign_in(client, world.alice)
    content = client.get("/directory/").content.decode()
    assert "Grace Green" in content and "Safeguarding Lead" in content
    assert "Oscar Owen" not in content  # Berkshire only
    content = client.get(
        f"/directory/?agency={world.csc.pk}&role=safeguarding_lead"
    ).content.decode()
    assert "Grace Green" in content and "Frank Ford" not in content


def test_the_directory_shows_lincolnshires_senior_liaison_officers(client, world):
    from cases.models import Agency, Sector
    from policies.models import Role
    from tests.personas import make_person

    load_directory()
    agency = Agency.objects.create(name="Lincs School", sector=Sector.EDUCATION)
    agency.partnerships.set([world.lincolnshire])
    teacher = make_person("lena", "Lena Lark", (agency, Role.PRACTITIONER, "Teacher"))
    sign_in(client, teacher)
    content = client.get("/directory/?q=Head+of+PPU").content.decode()
    assert "Lincolnshire Police" in content and "Senior Liaison Officer" in content


@pytest.mark.parametrize("url", ["/directory/", "/conference/"])
def test_directory_and_conference_pages_have_bounded_query_counts(
    client, world, url, django_assert_max_num_queries
):
    sign_in(client, world.carol)
    with django_assert_max_num_queries(15):
        assert client.get(url).status_code == 200
