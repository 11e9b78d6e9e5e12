"""Pan-Cheshire (issue 15, point 8): "The LSCB will maintain a record of all escalations and
outcomes at Step 4, but may request from time to time information from its partners about the
outcomes of escalations at Steps 2 and 3." The business manager asks an agency from the
dashboard; the agency's safeguarding lead sees the request, the escalations it covers, and
answers with a summary that names no child; the answer is on the dashboard's learning page."""

import html
from datetime import date

import pytest
from django.utils import timezone

from cases.models import Sector
from escalations import services
from escalations.models import OutcomeRequest
from escalations.services import ActionRefused
from escalations.services.outcome_requests import answer_outcome_request
from tests.factories import AgencyFactory, OpenEscalationFactory, PartnershipFactory
from tests.helpers import sign_in
from tests.personas import make_person


@pytest.fixture
def cheshire(db):
    partnership = PartnershipFactory(slug="pan-cheshire")
    school = AgencyFactory(name="Weaver School", partnerships=[partnership])
    csc = AgencyFactory(
        name="Weaver Children's Social Care",
        sector=Sector.CHILDRENS_SOCIAL_CARE,
        partnerships=[partnership],
    )
    people = {
        "sam": make_person("sam", "Sam Stone", (school, "practitioner")),
        "lee": make_person("lee", "Lee Lake", (school, "line_manager")),
        "dsl": make_person("dsl", "Dee Lead", (school, "safeguarding_lead")),
        "cal": make_person("cal", "Cal Care", (csc, "practitioner")),
        "bea": make_person("bea", "Bea Board", (partnership, "business_manager")),
        "cha": make_person("cha", "Cha Chair", (partnership, "chair")),
    }
    esc = OpenEscalationFactory(
        by=people["sam"],
        child=services.ChildDetails(
            home_partnership=partnership, given_names="Wren", family_name="Testwell"
        ),
        receiving_agency=csc,
        receiving_person=people["cal"],
    )
    esc = services.escalate(esc, by=people["sam"], reason="No reply after the conversation.")
    return partnership, school, esc, people


def test_the_business_manager_asks_the_lead_answers_and_the_dashboard_shows_it(client, cheshire):
    partnership, school, esc, people = cheshire
    sign_in(client, people["bea"])
    dashboard = client.get("/partnerships/pan-cheshire/dashboard/").content.decode()
    assert "/partnerships/pan-cheshire/outcome-requests/" in dashboard
    today = timezone.localdate()
    response = client.post(
        "/partnerships/pan-cheshire/outcome-requests/",
        {
            "agency": school.pk,
            "since-day": "1",
            "since-month": "1",
            "since-year": str(today.year),
            "question": "The outcomes of your escalations that stopped at steps 2 and 3.",
        },
    )
    assert response.status_code == 302
    asked = OutcomeRequest.objects.get()
    assert (asked.agency, asked.asked_by, asked.since) == (
        school,
        people["bea"],
        date(today.year, 1, 1),
    )
    # The school's safeguarding lead is told on their home page, and sees what it covers.
    sign_in(client, people["dsl"])
    home = client.get("/").content.decode()
    assert f"{partnership.name} asks {school.name} for the outcomes" in html.unescape(home)
    page = client.get(f"/outcome-requests/{asked.pk}/").content.decode()
    assert esc.reference in page
    # A summary naming the child is refused, saying why; nothing is saved.
    response = client.post(
        f"/outcome-requests/{asked.pk}/", {"answer": "Wren's plan was agreed at step 2."}
    )
    assert "names a child or family of these escalations (“Wren”)" in response.content.decode()
    asked.refresh_from_db()
    assert asked.answered_at is None
    response = client.post(
        f"/outcome-requests/{asked.pk}/",
        {"answer": "One escalation this year; resolved at step 2 with a joint visit."},
    )
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.answered_by == people["dsl"]
    # On the dashboard's learning page, for the business manager and the chair.
    for reader in ("bea", "cha"):
        sign_in(client, people[reader])
        learning = client.get("/partnerships/pan-cheshire/dashboard/learning/").content.decode()
        assert "Outcomes sent by agencies when asked" in learning
        assert "resolved at step 2 with a joint visit" in learning
        assert "Wren" not in learning


def test_only_the_business_manager_asks_and_only_the_agencys_lead_answers(client, cheshire):
    partnership, school, _esc, people = cheshire
    asked = OutcomeRequest.objects.create(
        partnership=partnership,
        agency=school,
        asked_by=people["bea"],
        since=date(2026, 1, 1),
        question="Your step 2-3 outcomes.",
    )
    for name in ("sam", "lee", "cal", "bea"):
        with pytest.raises(ActionRefused, match="safeguarding lead or senior manager"):
            answer_outcome_request(asked.pk, by=people[name], answer="Resolved.")
        sign_in(client, people[name])
        assert client.get(f"/outcome-requests/{asked.pk}/").status_code == 404
    sign_in(client, people["cha"])  # sees the requests, does not send them
    page = client.get("/partnerships/pan-cheshire/outcome-requests/")
    assert page.status_code == 200 and "Send the request" not in page.content.decode()
    assert (
        client.post(
            "/partnerships/pan-cheshire/outcome-requests/", {"agency": school.pk}
        ).status_code
        == 404
    )
    sign_in(client, people["dsl"])
    assert client.get("/partnerships/pan-cheshire/outcome-requests/").status_code == 404


def test_a_partnership_whose_policy_does_not_provide_for_it_offers_nothing(client, world):
    sign_in(client, world.ivan)  # Kirklees' business manager
    assert client.get("/partnerships/kirklees/outcome-requests/").status_code == 404
    dashboard = client.get("/partnerships/kirklees/dashboard/").content.decode()
    assert "outcome-requests" not in dashboard


def test_the_request_pages_keep_the_query_budgets_of_every_page(client, cheshire):
    """Issue 18's budgets (tests/test_query_budgets.py, whose scene is Kirklees, where these
    pages answer 404): a page within 15 queries and a list within 10, for a reader with many
    unread notices."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories.escalations import many_unread_notices

    partnership, school, _esc, people = cheshire
    asked = OutcomeRequest.objects.create(
        partnership=partnership,
        agency=school,
        asked_by=people["bea"],
        since=date(2026, 1, 1),
        question="Your step 2-3 outcomes.",
    )
    assert many_unread_notices(people["dsl"], 300) == 300
    for who, url, budget in (
        ("bea", "/partnerships/pan-cheshire/outcome-requests/", 15),
        ("dsl", f"/outcome-requests/{asked.pk}/", 15),
        ("dsl", "/agency/escalations/", 10),
        ("dsl", "/", 15),
    ):
        sign_in(client, people[who])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) <= budget, (url, len(queries))
