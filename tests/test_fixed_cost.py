"""What a signed-in request costs before any view runs (issue 18 point 5): the session, the
user (with their person, and whether the session's second factor still stands, joined), and
nothing more, for someone with a verified second factor and many unread notices. The second
factor's rule is unchanged: a device removed or unconfirmed stops verifying the session."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import OpenEscalationFactory
from tests.factories.escalations import many_unread_notices
from tests.helpers import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.support.fixed_cost_urls")]


def test_a_signed_in_view_that_does_nothing_runs_at_most_three_queries(world, client):
    OpenEscalationFactory()
    many_unread_notices(world.grace, 50)
    sign_in(client, world.grace)
    client.get("/nothing/")  # the first visit stamps the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/nothing/")
    assert response.status_code == 200 and response.content == b"nothing"
    sql = [q["sql"].lower() for q in queries.captured_queries]
    assert len(sql) <= 3, sql
    assert len(sql) == 2  # pinned: the session, then the user with person and second factor
    assert "django_session" in sql[0]
    assert "auth_user" in sql[1] and "cases_person" in sql[1] and "otp_totp_totpdevice" in sql[1]


def test_a_removed_device_stops_verifying_the_session_at_the_next_request(world, client):
    sign_in(client, world.grace)
    assert client.get("/nothing/").status_code == 200
    TOTPDevice.objects.filter(user=world.grace.user).delete()
    response = client.get("/nothing/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/")
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_an_unconfirmed_device_does_not_verify(world, client):
    sign_in(client, world.grace)
    TOTPDevice.objects.filter(user=world.grace.user).update(confirmed=False)
    response = client.get("/nothing/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/")


def test_another_persons_device_does_not_verify(world, client):
    sign_in(client, world.grace)
    sign_in(client.__class__(), world.carol)
    carols = TOTPDevice.objects.get(user=world.carol.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = carols.persistent_id
    session.save()
    response = client.get("/nothing/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/")
