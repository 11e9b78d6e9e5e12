"""Raising a challenge through the question pages."""

from datetime import date

import pytest
from django.utils import timezone

from escalations.drafts import DraftChallenge
from escalations.models import Escalation, Notice, NoticeKind, State
from tests.helpers import sign_in

ANSWERS = {
    "immediate-risk": {"immediate_risk": "no"},
    "conduct": {"conduct": "no"},
    "child": {
        "child_kind": "child",
        "given_names": "Poppy",
        "family_name": "Testwell",
        "date_of_birth-day": "2",
        "date_of_birth-month": "4",
        "date_of_birth-year": "2019",
        "address": "1 Invented Row",
    },
    "practitioner": {"receiving_person": "", "receiving_team": "Duty team"},
    "pathway": {"pathway": "referral"},
    "nature": {"natures": ["referral_decision", "other"], "nature_other": "Tone of the reply"},
    "details": {"details": "The referral was declined despite new disclosures."},
    "outcome": {"outcome_sought": "A manager reconsiders the referral."},
    "interim-safety": {"interim_safety": "The school's DSL sees Poppy daily."},
    "discussion-date": {
        "initial_discussion_on-day": "2",
        "initial_discussion_on-month": "11",
        "initial_discussion_on-year": "2026",
    },
}


def walk(client, world, overrides=None, stop_at=None):
    """Answer every question page in turn; returns the draft's check page response."""
    answers = {**ANSWERS, "other-agency": {"receiving_agency": str(world.csc.pk)}}
    answers.update(overrides or {})
    response = client.post("/raise/")
    assert response.status_code == 302
    url = response["Location"]
    for _ in range(20):
        slug = url.rstrip("/").split("/")[-1]
        if slug == "check" or slug == stop_at:
            return url
        response = client.post(url, answers.get(slug, {}))
        assert response.status_code == 302, (slug, response.content.decode()[:3000])
        url = response["Location"]
    raise AssertionError("the journey did not end")


def test_practitioner_raises_a_challenge_through_the_question_pages(client, world):
    sign_in(client, world.alice)
    check_url = walk(client, world)
    page = client.get(check_url)
    assert b"Check your answers" in page.content
    assert b"Other: Tone of the reply" in page.content
    response = client.post(check_url)
    escalation = Escalation.objects.get()
    assert response["Location"] == f"/escalations/{escalation.reference}/raised/"
    assert escalation.state == State.OPEN
    assert escalation.receiving_team == "Duty team"
    assert escalation.initial_discussion_on == date(2026, 11, 2)
    confirmation = client.get(response["Location"])
    assert escalation.reference.encode() in confirmation.content
    assert b"govuk-panel--confirmation" in confirmation.content


def test_a_double_submitted_check_page_raises_once_and_lands_on_the_confirmation(client, world):
    sign_in(client, world.alice)
    check_url = walk(client, world)
    first = client.post(check_url)
    second = client.post(check_url)
    assert Escalation.objects.count() == 1
    assert second.status_code == 302
    assert second["Location"] == first["Location"]


def test_immediate_risk_shows_the_emergency_route_and_starts_kirklees_at_stage_1(client, world):
    """Kirklees gives an emergency route (Duty & Advice 01484 414960 or 999), not discretion
    over the starting stage: no start-stage question, and the escalation starts at stage 1."""
    sign_in(client, world.alice)
    response = client.post("/raise/")
    draft_url = response["Location"].rsplit("/", 2)[0]
    response = client.post(f"{draft_url}/immediate-risk/", {"immediate_risk": "yes"})
    assert response["Location"].endswith("/emergency/")
    emergency = client.get(response["Location"])
    assert b"01484 414960" in emergency.content
    response = client.post(response["Location"])
    assert not response["Location"].endswith("/start-stage/")
    check_url = walk_from(client, world, response["Location"], {})
    client.post(check_url)
    escalation = Escalation.objects.get()
    assert escalation.stage.number == 1
    assert escalation.immediate_risk
    assert Notice.objects.filter(
        escalation=escalation, kind=NoticeKind.IMMEDIATE_RISK, recipient=world.carol
    ).exists()


def test_berkshire_lets_a_raiser_with_immediate_risk_choose_a_later_stage(client, world):
    """Berkshire: "it may be required to instigate all of the stages within a short period of
    time or to escalate the process"."""
    sign_in(client, world.oscar)
    response = client.post("/raise/")
    draft_url = response["Location"].rsplit("/", 2)[0]
    response = client.post(f"{draft_url}/immediate-risk/", {"immediate_risk": "yes"})
    assert response["Location"].endswith("/emergency/")
    response = client.post(response["Location"])
    assert response["Location"].endswith("/start-stage/")
    check_url = walk_from(
        client,
        world,
        response["Location"],
        {
            "start-stage": {"start_stage": "3"},
            "other-agency": {"receiving_agency": str(world.constabulary.pk)},
        },
    )
    client.post(check_url)
    escalation = Escalation.objects.get()
    assert escalation.stage.number == 3
    assert escalation.partnership == world.berkshire


def walk_from(client, world, url, overrides):
    answers = {**ANSWERS, "other-agency": {"receiving_agency": str(world.csc.pk)}, **overrides}
    for _ in range(20):
        slug = url.rstrip("/").split("/")[-1]
        if slug == "check":
            return url
        response = client.post(url, answers.get(slug, {}))
        assert response.status_code == 302, (slug, response.content.decode()[:3000])
        url = response["Location"]
    raise AssertionError("the journey did not end")


def test_a_concern_about_conduct_points_to_the_allegations_procedure(client, world):
    sign_in(client, world.alice)
    response = client.post("/raise/")
    draft_url = response["Location"].rsplit("/", 2)[0]
    client.post(f"{draft_url}/immediate-risk/", {"immediate_risk": "no"})
    response = client.post(f"{draft_url}/conduct/", {"conduct": "yes"})
    assert response["Location"].endswith("/allegations/")
    page = client.get(response["Location"])
    assert b"Local Authority Designated Officer" in page.content
    assert client.get(f"{draft_url}/check/")["Location"].endswith("/allegations/")


def test_an_unanswered_question_shows_the_error_summary_linked_to_the_field(client, world):
    sign_in(client, world.alice)
    response = client.post("/raise/")
    page = client.post(response["Location"], {})
    content = page.content.decode()
    assert "There is a problem" in content
    assert 'href="#id_immediate_risk"' in content
    assert "Select yes if the child is at immediate risk of significant harm" in content
    assert "<title>Error: " in content


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("", "", "", "Enter the date of the initial discussion"),
        ("2", "", "2026", "The date of the initial discussion must include a month"),
        ("31", "2", "2026", "The date of the initial discussion must be a real date"),
        ("1", "1", "2099", "The date of the initial discussion must be today or in the past"),
    ],
)
def test_the_discussion_date_is_checked_and_what_was_typed_is_kept(
    client, world, day, month, year, message
):
    sign_in(client, world.alice)
    url = walk(client, world, stop_at="discussion-date")
    page = client.post(
        url,
        {
            "initial_discussion_on-day": day,
            "initial_discussion_on-month": month,
            "initial_discussion_on-year": year,
        },
    )
    content = page.content.decode()
    assert message in content
    assert 'href="#id_initial_discussion_on-day"' in content
    if year:
        assert f'value="{year}"' in content, content[content.find("<main") :]


def test_the_discussion_date_defaults_to_today(client, world):
    sign_in(client, world.alice)
    url = walk(client, world, stop_at="discussion-date")
    content = client.get(url).content.decode()
    assert f'value="{timezone.localdate().year}"' in content


def test_a_draft_is_kept_and_can_be_continued_from_home(client, world):
    sign_in(client, world.alice)
    walk(client, world, stop_at="details")
    draft = DraftChallenge.objects.get()
    home = client.get("/").content.decode()
    assert "Challenge about Poppy Testwell" in home
    assert f"/raise/drafts/{draft.pk}/" in home
    assert client.get(f"/raise/drafts/{draft.pk}/")["Location"].endswith("/details/")


def test_nobody_else_can_open_a_persons_draft(client, world):
    sign_in(client, world.alice)
    walk(client, world, stop_at="details")
    draft = DraftChallenge.objects.get()
    sign_in(client, world.bob)
    assert client.get(f"/raise/drafts/{draft.pk}/details/").status_code == 404
    assert client.get(f"/raise/drafts/{draft.pk}/check/").status_code == 404


def test_change_links_return_to_check_your_answers(client, world):
    sign_in(client, world.alice)
    check_url = walk(client, world)
    draft_url = check_url.rsplit("/", 2)[0]
    response = client.post(f"{draft_url}/details/?change=1", {"details": "Changed details."})
    assert response["Location"] == check_url
    assert b"Changed details." in client.get(check_url).content


def test_an_agency_in_two_partnerships_is_asked_where_the_child_lives(client, world):
    from policies.models import Role
    from tests.personas import make_person

    officer = make_person("olly", "Olly Oak", (world.constabulary, Role.PRACTITIONER, "PC"))
    sign_in(client, officer)
    response = client.post("/raise/")
    assert response["Location"].endswith("/partnership/")
