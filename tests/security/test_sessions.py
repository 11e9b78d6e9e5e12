from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests.helpers import sign_in
from tests.security.signing_in import PASSWORD, attempt, is_signed_in

pytestmark = pytest.mark.django_db

# A page only a signed-in, verified person gets.
SIGNED_IN_PAGE = "/account/two-factor/backup-codes/"


def can_use_the_portal(client) -> bool:
    return client.get(SIGNED_IN_PAGE).status_code == 200


def test_a_session_ends_after_30_idle_minutes(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, world.alice)
        assert can_use_the_portal(client)
        clock.shift(timedelta(minutes=31))
        response = client.get(SIGNED_IN_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)


def test_activity_keeps_a_session_alive_until_the_8_hour_limit(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, world.alice)
        for _ in range(23):  # every 20 minutes for 7 h 40 min
            clock.shift(timedelta(minutes=20))
            assert can_use_the_portal(client)
        clock.shift(timedelta(minutes=21))
        response = client.get(SIGNED_IN_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)
    assert not is_signed_in(client)


def test_idle_time_counts_from_the_last_page_seen_to_within_a_minute(world, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, world.alice)
        clock.shift(timedelta(minutes=20))
        assert can_use_the_portal(client)  # pushes the expiry on
        clock.shift(timedelta(seconds=30))
        assert can_use_the_portal(client)  # within the minute: no write
        clock.shift(timedelta(minutes=29))  # 29.5 min after the last write
        assert can_use_the_portal(client)
        clock.shift(timedelta(minutes=30, seconds=1))
        response = client.get(SIGNED_IN_PAGE)
    assert response.status_code == 302


def test_signing_in_issues_a_new_session_id(world, client):
    world.alice.user.is_staff = True  # the admin sign-in stands in until the portal's merges
    world.alice.user.save()
    session = SessionStore()
    session["seen_the_sign_in_page"] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key

    attempt(client, "alice", PASSWORD)

    assert is_signed_in(client)
    assert client.session.session_key != session.session_key
    assert not SessionStore().exists(session.session_key)


def sign_out_url() -> str:
    try:
        return reverse("sign-out")
    except NoReverseMatch:
        return "/admin/logout/"


def test_signing_out_ends_the_session_on_the_server(world, client):
    world.alice.user.is_staff = True  # the admin sign-out stands in until the portal's merges
    world.alice.user.save()
    sign_in(client, world.alice)
    key = client.session.session_key

    client.post(sign_out_url())

    assert not SessionStore().exists(key)
    assert not can_use_the_portal(client)


def test_a_deactivated_persons_open_session_stops_working(world, client):
    sign_in(client, world.alice)
    assert can_use_the_portal(client)

    world.alice.user.is_active = False
    world.alice.user.save()

    assert not can_use_the_portal(client)
    assert not is_signed_in(client)


def test_changing_a_password_ends_the_persons_other_sessions(world):
    laptop, phone = Client(), Client()
    sign_in(laptop, world.alice)
    sign_in(phone, world.alice)

    world.alice.user.set_password("a new long passphrase for alice")
    world.alice.user.save()

    assert not can_use_the_portal(phone)
    assert not can_use_the_portal(laptop)


def test_session_cookies_are_http_only_and_sessions_idle_out_after_30_minutes():
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_REFRESH_SECONDS <= 60
    assert settings.SESSION_ABSOLUTE_SECONDS == 8 * 60 * 60


def refusals(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return list(error.messages)
    return []


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",  # no digit, no capital: length is what counts
        "twelve chars",
        "x" * 128,
    ],
)
def test_long_passwords_are_accepted_without_composition_rules(password):
    assert refusals(password) == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("eleven char", "This password is too short. It must contain at least 12 characters."),
        ("x" * 129, "Your password must be 128 characters or fewer"),
        ("q1w2e3r4t5y6", "This password is too common."),
        ("qwerty123456", "This password is too common."),
    ],
)
def test_short_overlong_and_common_passwords_are_refused(password, message):
    assert message in refusals(password)


def test_completing_the_second_factor_issues_a_new_session_id(world, client):
    """ASVS 7.2.4: the id a browser held after the password step (seen in a shared browser, a
    log or a proxy) is dead once the second factor completes, at enrolment and at each
    later sign-in, whether by app code or backup code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.security.otp import current_code
    from tests.security.test_two_factor import codes_on

    for step in ("set up", "app code", "backup code"):
        attempt(client, "alice", PASSWORD)
        assert is_signed_in(client)
        before = client.session.session_key
        if step == "set up":
            client.get("/account/two-factor/set-up/")
            device = TOTPDevice.objects.get(user=world.alice.user, confirmed=False)
            response = client.post("/account/two-factor/set-up/", {"code": current_code(device)})
            backup = codes_on(response)
        else:
            code = current_code(device) if step == "app code" else backup.pop()
            device.throttling_failure_count = 0
            TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the code may repeat
            response = client.post("/account/two-factor/verify/", {"code": code})
            assert response.status_code == 302, step
        after = client.session.session_key
        assert after != before, step
        assert not SessionStore().exists(before), step
        assert can_use_the_portal(client), step
        client.post(sign_out_url())
