from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.security.signing_in import PASSWORD, attempt, is_signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(world):
    # Django's admin sign-in (the stand-in until the portal's page merges) admits staff only.
    for person in (world.alice, world.bob):
        person.user.is_staff = True
        person.user.save()
    return world


def fail_five_times(username: str, address: str = "192.0.2.10", **headers) -> None:
    statuses = [
        attempt(Client(), username, "not-the-password", address, **headers).status_code
        for _ in range(5)
    ]
    # The fifth failure is the one that locks, and is answered with the lockout page.
    assert statuses[:4] == [200] * 4 and statuses[4] == 429


def test_five_wrong_passwords_lock_that_username_from_that_address(staff):
    fail_five_times("alice")

    client = Client()
    response = attempt(client, "alice", PASSWORD)

    assert response.status_code == 429
    assert not is_signed_in(client)
    page = response.content.decode()
    assert "Sign-in locked for 15 minutes" in page
    assert 'class="govuk-heading-l"' in page and "govuk-template" in page


def test_another_person_at_the_same_address_can_still_sign_in(staff):
    fail_five_times("alice")

    client = Client()
    response = attempt(client, "bob", PASSWORD)

    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_same_username_from_another_address_is_not_locked(staff):
    fail_five_times("alice", "192.0.2.10")

    client = Client()
    attempt(client, "alice", PASSWORD, "198.51.100.7")

    assert is_signed_in(client)


def test_a_forged_forwarded_for_header_does_not_reset_the_count(staff):
    for n in range(5):
        attempt(Client(), "alice", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    response = attempt(Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert response.status_code == 429


def test_behind_one_trusted_proxy_the_client_is_the_address_the_proxy_saw(staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    # The client prepends forged entries; the proxy appends the real address last.
    for n in range(5):
        attempt(Client(), "alice", "wrong", proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.5")

    locked = attempt(
        Client(), "alice", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5"
    )
    colleague = Client()
    attempt(colleague, "alice", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="203.0.113.6")

    assert locked.status_code == 429
    assert is_signed_in(colleague), "one person behind the proxy does not lock out another"


def test_the_lock_lifts_after_the_cool_off(staff):
    fail_five_times("alice")

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        client = Client()
        attempt(client, "alice", PASSWORD)
        assert is_signed_in(client)
