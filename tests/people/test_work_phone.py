"""A person's work phone (issue 17, point 12): kept by the person on their account page and by
their partnership's administrator, checked as a UK number with a clear message, and shown in
the directory beside the email address. Numbers are from Ofcom's drama ranges."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEntry
from cases import phone
from tests.helpers import sign_in

KIRKLEES = "/manage/partnerships/kirklees"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("01632 960 001", "01632 960001"),
        ("07700-900-982", "07700 900982"),
        ("+44 (0)1632 960001", "01632 960001"),
        ("0044 7700 900123", "07700 900123"),
        ("020 7946 0000", "020 7946 0000"),
        ("", ""),
    ],
)
def test_uk_numbers_are_kept_in_their_usual_spacing(typed, kept):
    assert phone.normalise(typed) == kept


@pytest.mark.parametrize("typed", ["999", "1632 960001", "+1 202 555 0100", "01632 96000x", "0"])
def test_anything_else_is_refused_with_a_message_that_shows_the_format(typed):
    with pytest.raises(ValidationError) as refused:
        phone.normalise(typed)
    assert refused.value.messages == [phone.MESSAGE]


def test_a_person_sets_their_own_work_phone_and_the_directory_shows_it(client, world):
    sign_in(client, world.alice)
    account = client.get("/")
    assert 'href="/account/"' in account.content.decode()
    page = client.get("/account/").content.decode()
    assert "<h1" in page and "Your account" in page
    assert "Not given" in page

    wrong = client.post("/account/work-phone/", {"phone": "ring me"}).content.decode()
    assert "There is a problem" in wrong
    assert phone.MESSAGE in wrong
    assert 'value="ring me"' in wrong  # what was typed is kept to correct
    world.alice.refresh_from_db()
    assert world.alice.phone == ""

    response = client.post("/account/work-phone/", {"phone": "07700 900 982"})
    assert response["Location"] == "/account/"
    assert "Your work phone has been saved." in client.get("/account/").content.decode()
    world.alice.refresh_from_db()
    assert world.alice.phone == "07700 900982"
    entry = AuditEntry.objects.get(what="Alice Able changed their work phone")
    assert entry.changes == [["Work phone", "", "07700 900982"]]

    sign_in(client, world.bob)
    directory = client.get("/directory/").content.decode()
    row = directory.split(f">{world.alice.email}</a>")[1].split("</tr>")[0]
    assert 'href="tel:07700900982">07700 900982</a>' in row


def test_the_partnership_administrator_changes_a_persons_work_phone(client, world):
    sign_in(client, world.kim)
    edit = f"{KIRKLEES}/people/{world.alice.pk}/edit/"
    assert 'type="tel"' in client.get(edit).content.decode()
    wrong = client.post(
        edit, {"full_name": "Alice Able", "email": world.alice.email, "phone": "12345"}
    )
    assert phone.MESSAGE in wrong.content.decode()
    response = client.post(
        edit, {"full_name": "Alice Able", "email": world.alice.email, "phone": "01632 960 321"}
    )
    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert world.alice.phone == "01632 960321"
    entry = AuditEntry.objects.filter(object_type="person").latest("at")
    assert ["Work phone", "", "01632 960321"] in entry.changes
    assert "01632 960321" in client.get(f"{KIRKLEES}/people/{world.alice.pk}/").content.decode()


def test_an_agencys_safeguarding_phone_is_checked_the_same_way(client, world):
    sign_in(client, world.kim)
    wrong = client.post(
        f"{KIRKLEES}/agencies/{world.csc.pk}/",
        {"name": world.csc.name, "sector": world.csc.sector, "safeguarding_contact_phone": "x"},
    )
    assert phone.MESSAGE in wrong.content.decode()
