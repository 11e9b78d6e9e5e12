"""What a signed-in request costs before any view runs (issue 18 point 5): the session, the
user (with their person, and whether the session's second factor still stands, joined), and
nothing more, for someone with a verified second factor and many unread notices. The second
factor's rule is unchanged: a device removed or unconfirmed stops verifying the session. The
user's query is compiled once (cases.auth, ADR 0036): what it loads is what the ORM loads."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.auth import signed_in_user
from cases.models import Person
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


def _fields(instance) -> dict:
    return {
        field.attname: (type(value), value)
        for field in instance._meta.concrete_fields
        for value in [getattr(instance, field.attname)]
    }


def test_the_signed_in_user_and_their_person_are_loaded_as_the_orm_loads_them(
    world, django_assert_num_queries
):
    user = world.grace.user
    get_user_model().objects.filter(pk=user.pk).update(last_login=timezone.now())
    device = TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
    expected = get_user_model().objects.select_related("person").get(pk=user.pk)

    loaded = signed_in_user(str(user.pk), device.persistent_id)

    assert _fields(loaded) == _fields(expected)  # types too: aware times, booleans as bool
    with django_assert_num_queries(0):  # loaded with the user, in the same query
        assert _fields(loaded.person) == _fields(expected.person)
    assert loaded.person.user is loaded
    assert loaded.second_factor_stands is True
    assert loaded._state.db == "default" and not loaded._state.adding


def test_someone_with_no_person_is_loaded_without_one_and_no_one_is_loaded_for_a_missing_id(
    world,
):
    admin = get_user_model().objects.create_user("admin-only", "admin@example.invalid")
    assert not Person.objects.filter(user=admin).exists()

    loaded = signed_in_user(str(admin.pk), None)

    assert loaded == admin and not hasattr(loaded, "second_factor_stands")
    with pytest.raises(ObjectDoesNotExist):
        loaded.person
    assert signed_in_user(str(admin.pk + 1000), None) is None


def test_a_session_naming_something_that_is_not_a_device_does_not_verify(world, client):
    sign_in(client, world.grace)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = f"cases.person/{world.grace.pk}"
    session.save()
    response = client.get("/nothing/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/")
