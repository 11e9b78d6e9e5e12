import re

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from escalations.models import Pulse, PulseKind
from tests.helpers import sign_in
from tests.security.otp import current_code

pytestmark = pytest.mark.django_db


def codes_on(response) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())


def set_up_app(client, person) -> tuple[TOTPDevice, list[str]]:
    client.get("/account/two-factor/set-up/")
    device = TOTPDevice.objects.get(user=person.user, confirmed=False)
    response = client.post("/account/two-factor/set-up/", {"code": current_code(device)})
    assert response.status_code == 200
    return device, codes_on(response)


def test_a_person_signed_in_with_a_password_only_is_sent_to_set_up_an_app(world, client):
    sign_in(client, world.alice, second_factor=False)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[0] == ("/account/two-factor/?next=%2Fadmin%2F", 302)
    assert response.redirect_chain[-1][0].startswith("/account/two-factor/set-up/")
    assert b"Set up your authenticator app" in response.content


def test_the_set_up_page_shows_a_server_drawn_qr_code_and_the_key_to_type(world, client):
    sign_in(client, world.alice, second_factor=False)

    page = client.get("/account/two-factor/set-up/").content.decode()

    assert 'src="data:image/svg+xml;base64,' in page
    device = TOTPDevice.objects.get(user=world.alice.user)
    from base64 import b32encode

    key = b32encode(device.bin_key).decode()
    assert key[:4] + " " + key[4:8] in page
    assert '<form method="post" novalidate>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "no inline script"


def test_confirming_the_app_verifies_the_session_and_shows_ten_backup_codes_once(world, client):
    sign_in(client, world.alice, second_factor=False)

    device, codes = set_up_app(client, world.alice)

    assert len(codes) == 10 == len(set(codes))
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    again = client.get("/account/two-factor/backup-codes/")
    assert codes_on(again) == [], "codes are shown only once"


def test_a_wrong_code_at_set_up_is_refused_with_a_specific_message(world, client):
    sign_in(client, world.alice, second_factor=False)
    client.get("/account/two-factor/set-up/")

    letters = client.post("/account/two-factor/set-up/", {"code": "abc"})
    wrong = client.post("/account/two-factor/set-up/", {"code": "000000"})
    empty = client.post("/account/two-factor/set-up/", {"code": ""})

    assert letters.status_code == wrong.status_code == empty.status_code == 400
    assert b"There is a problem" in letters.content
    assert b"The code must be 6 digits" in letters.content
    assert b"The code is not correct" in wrong.content or b"Too many wrong codes" in wrong.content
    assert b"Enter the 6-digit code from your authenticator app" in empty.content
    assert not TOTPDevice.objects.get(user=world.alice.user).confirmed


def test_later_sign_ins_ask_for_a_code_from_the_app_already_set_up(world, client):
    sign_in(client, world.alice, second_factor=False)
    set_up_app(client, world.alice)
    later = Client()
    sign_in(later, world.alice, second_factor=False)

    response = later.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/account/two-factor/verify/")
    assert b"Enter your security code" in response.content
    assert TOTPDevice.objects.filter(user=world.alice.user).count() == 1


def test_a_used_app_code_is_refused_a_second_time(world, client):
    sign_in(client, world.alice, second_factor=False)
    device, _ = set_up_app(client, world.alice)
    used = current_code(device)

    replay = Client()
    sign_in(replay, world.alice, second_factor=False)
    response = replay.post("/account/two-factor/verify/", {"code": used})

    assert response.status_code == 400
    assert b"has been used already" in response.content or b"Too many wrong" in response.content
    device.refresh_from_db()
    assert device.last_t > -1
    assert "two-factor" in replay.get("/admin/")["Location"]


def test_a_backup_code_signs_in_once(world, client):
    sign_in(client, world.alice, second_factor=False)
    _, codes = set_up_app(client, world.alice)
    first, second = Client(), Client()
    sign_in(first, world.alice, second_factor=False)
    sign_in(second, world.alice, second_factor=False)

    ok = first.post("/account/two-factor/verify/", {"code": codes[0].upper(), "next": "/admin/"})
    reused = second.post("/account/two-factor/verify/", {"code": codes[0]})

    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert reused.status_code == 400
    assert StaticToken.objects.filter(device__user=world.alice.user).count() == 9


def test_an_off_site_next_address_is_ignored_after_verifying(world, client):
    sign_in(client, world.alice, second_factor=False)
    _, codes = set_up_app(client, world.alice)
    other = Client()
    sign_in(other, world.alice, second_factor=False)

    response = other.post(
        "/account/two-factor/verify/", {"code": codes[1], "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_an_unverified_person_reaches_only_the_second_factor_pages_and_health(world, client):
    sign_in(client, world.alice, second_factor=False)
    Pulse.objects.record(PulseKind.WORKER)
    Pulse.objects.record(PulseKind.SWEEP)

    assert client.get("/healthz").status_code == 200
    assert client.get("/account/two-factor/set-up/").status_code == 200
    for path in ("/", "/admin/", "/admin/cases/person/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/two-factor/"), path
    assert client.post("/admin/cases/person/add/", {})["Location"] == "/account/two-factor/"


def test_backup_codes_cannot_be_replaced_without_a_verified_second_factor(world, client):
    sign_in(client, world.alice, second_factor=False)
    set_up_app(client, world.alice)
    other = Client()
    sign_in(other, world.alice, second_factor=False)

    response = other.post("/account/two-factor/backup-codes/")

    assert response.status_code == 302
    assert StaticToken.objects.filter(device__user=world.alice.user).count() == 10


def test_the_test_sign_in_helper_gives_a_verified_session(world, client):
    sign_in(client, world.alice)

    response = client.get("/account/two-factor/backup-codes/")

    assert response.status_code == 200
    assert b"Get new backup codes" in response.content
