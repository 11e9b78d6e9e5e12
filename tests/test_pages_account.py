"""Signing in and out, resetting a password, the header and page furniture."""

import re

from django.core import mail

from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in


def test_an_anonymous_visitor_is_sent_to_the_sign_in_page(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/"


def test_a_person_signs_in_with_username_and_password(client, world):
    response = client.post(
        "/sign-in/", {"username": "alice", "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    # The password is the first step; the second factor comes next (security's pages).
    assert client.get("/")["Location"].startswith("/account/two-factor/")


def test_a_wrong_password_is_explained_in_the_error_summary(client, world):
    response = client.post("/sign-in/", {"username": "alice", "password": "wrong"})
    content = response.content.decode()
    assert "There is a problem" in content
    assert "Enter a correct username and password" in content
    assert 'value="alice"' in content
    assert "wrong" not in content.split("<main")[1]


def test_empty_sign_in_fields_get_specific_messages(client, db):
    content = client.post("/sign-in/", {}).content.decode()
    assert 'href="#id_username">Enter your username' in content
    assert 'href="#id_password">Enter your password' in content


def test_sign_out_is_a_post_and_ends_the_session(client, world):
    sign_in(client, world.alice)
    assert client.get("/sign-out/").status_code == 405
    response = client.post("/sign-out/")
    assert response["Location"] == "/sign-in/"
    assert client.get("/").status_code == 302


def test_the_header_shows_name_role_and_agency_and_counts_further_roles(client, world):
    sign_in(client, world.robin)
    content = client.get("/").content.decode()
    assert "Robin Rowe" in content
    assert "Practitioner, Small Steps Group" in content
    assert "(+2)" in content


def test_the_header_links_to_notifications_with_the_unread_count(client, world):
    sign_in(client, world.alice)
    assert "Notifications (0)" in client.get("/").content.decode()


def test_password_reset_emails_a_link_that_says_nothing_about_children(client, world):
    response = client.post("/sign-in/reset/", {"email": "alice@example.invalid"})
    assert response["Location"] == "/sign-in/reset/sent/"
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = re.search(r"http://\S+", body).group(0)
    assert "/sign-in/reset/" in link
    assert "child" not in body.lower()
    page = client.get(link, follow=True)
    assert b"Choose a new password" in page.content
    done = client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else link,
        {
            "new_password1": "a-much-longer-passphrase-7",
            "new_password2": "a-much-longer-passphrase-7",
        },
    )
    assert done["Location"] == "/sign-in/reset/done/"


def test_an_unknown_email_gets_the_same_answer_and_no_email(client, world):
    response = client.post("/sign-in/reset/", {"email": "nobody@example.invalid"})
    assert response["Location"] == "/sign-in/reset/sent/"
    assert mail.outbox == []


def test_every_page_has_a_unique_title_and_the_skip_link(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.carol)
    titles = set()
    for url in [
        "/",
        "/raise/",
        f"/escalations/{escalation.reference}/",
        f"/escalations/{escalation.reference}/note/",
        f"/escalations/{escalation.reference}/escalate/",
        "/approvals/",
        "/agency/escalations/",
        "/directory/",
        "/conference/",
    ]:
        content = client.get(url).content.decode()
        title = re.search(r"<title>(.*?)</title>", content, re.S).group(1).strip()
        assert title.endswith("– Escalation Portal"), url  # noqa: RUF001
        titles.add(title)
        assert 'href="#main-content"' in content
    assert len(titles) == 9
