"""A person's own mobile number for immediate-risk text messages: asked for on their
notifications page (where their other notice choices are) when the portal sends through GOV.UK
Notify, validated as a UK mobile with a message saying what to type, kept in one form, and never
shown in the directory."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cases.mobile import uk_mobile
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db
PAGE = "/notifications/"
SAVE = "/notifications/mobile/"


@pytest.fixture
def texts_on(settings):
    settings.NOTICE_CHANNEL = "notify"


@pytest.mark.parametrize(
    "typed", ["07700 900123", "07700900123", "+44 7700 900123", "(07700) 900-123", "447700900123"]
)
def test_a_uk_mobile_is_kept_in_one_form_however_it_is_typed(typed):
    assert uk_mobile(typed) == "+447700900123"


@pytest.mark.parametrize(
    "typed, words",
    [
        ("01484 221000", "11 digits starting 07"),  # a landline
        ("0770090012", "11 digits starting 07"),  # a digit short
        ("+33 6 12 34 56 78", "11 digits starting 07"),  # not a UK number
        ("07700 9OO123", "digits only"),
    ],
)
def test_anything_else_is_refused_saying_what_to_type(typed, words):
    with pytest.raises(ValidationError) as refused:
        uk_mobile(typed)
    assert words in refused.value.messages[0] and "07700 900123" in refused.value.messages[0]


def test_a_person_adds_changes_and_removes_their_mobile(client, world, texts_on):
    sign_in(client, world.carol)
    page = client.get(PAGE).content.decode()
    assert "Text messages" in page and 'name="mobile"' in page
    response = client.post(SAVE, {"mobile": "07700 900123"}, follow=True)
    world.carol.refresh_from_db()
    assert world.carol.mobile == "+447700900123"
    content = response.content.decode()
    assert "also be texted to 07700 900123" in content
    assert 'value="07700 900123"' in content
    client.post(SAVE, {"mobile": ""})
    world.carol.refresh_from_db()
    assert world.carol.mobile == ""


def test_a_wrong_number_is_explained_and_the_saved_one_kept(client, world, texts_on):
    world.carol.mobile = "+447700900123"
    world.carol.save()
    sign_in(client, world.carol)
    response = client.post(SAVE, {"mobile": "01484 221000"})
    assert response.status_code == 400
    content = response.content.decode()
    assert "There is a problem" in content
    assert 'href="#mobile">Enter a UK mobile number: 11 digits starting 07' in content
    assert 'value="01484 221000"' in content  # what was typed, to correct
    world.carol.refresh_from_db()
    assert world.carol.mobile == "+447700900123"


def test_no_mobile_is_asked_for_when_notices_go_by_smtp(client, world):
    sign_in(client, world.carol)
    assert 'name="mobile"' not in client.get(PAGE).content.decode()


def test_the_mobile_is_never_shown_in_the_directory_or_to_an_administrator(client, world):
    world.grace.mobile = "+447700900456"
    world.grace.save()
    sign_in(client, world.alice)
    directory = client.get("/directory/").content.decode()
    assert "Grace Green" in directory
    assert "900456" not in directory and "7700 900" not in directory
    client.logout()
    sign_in(client, world.kim)
    person = client.get(f"/manage/partnerships/kirklees/people/{world.grace.pk}/")
    assert person.status_code == 200 and "900456" not in person.content.decode()


def test_signed_out_visitors_cannot_set_a_mobile(client, world, texts_on):
    response = client.post(SAVE, {"mobile": "07700 900123"})
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
