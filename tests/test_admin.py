"""The Django admin, the administrators' fallback: every page opens, the record stays intact."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from escalations.models import Event
from escalations.record.services import freeze_due_records
from policies.loading import load_directory
from policies.models import ClosureDay
from security.two_factor import new_backup_codes
from tests.factories import EscalationAtStageFactory, OpenEscalationFactory
from tests.helpers import sign_in
from tests.personas import make_person


@pytest.fixture
def superuser(world):
    person = make_person("root", "Rowan Root")
    person.user.is_staff = person.user.is_superuser = True
    person.user.save()
    return person


@pytest.fixture
def filled(world, client, settings, tmp_path):
    """At least one row of every registered model, made the way the portal makes them."""
    settings.MEDIA_ROOT = tmp_path / "media"
    load_directory()
    ClosureDay.objects.create(partnership=world.kirklees, date="2026-12-29", reason="Office shut")
    Group.objects.create(name="Auditors")
    new_backup_codes(world.alice.user)
    client.post("/sign-in/", {"username": "alice", "password": "not her password"})
    client.cookies.clear()
    esc = EscalationAtStageFactory(stage=5)  # Kirklees keeps the record from stage 5
    freeze_due_records()
    sign_in(client, world.alice)
    client.get(f"/escalations/{esc.reference}/")  # an audited read
    client.logout()
    esc.refresh_from_db()
    return esc


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_a_superuser_can_open_every_changelist_and_change_page(client, superuser, filled, model):
    sign_in(client, superuser)
    assert client.get(admin_url(model, "changelist")).status_code == 200
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the fixture made no {model._meta.verbose_name} to open"
    assert client.get(admin_url(model, "change", obj.pk)).status_code == 200


def test_escalation_events_cannot_be_added_changed_or_deleted_in_the_admin(
    client, superuser, filled
):
    sign_in(client, superuser)
    event = Event.objects.filter(escalation=filled).order_by("sequence").first()
    before = list(Event.objects.values_list("pk", "reason", "kind"))

    page = client.get(admin_url(Event, "change", event.pk))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # shown read only
    assert client.get(admin_url(Event, "add")).status_code == 403
    assert client.post(admin_url(Event, "change", event.pk), {"reason": "x"}).status_code == 403
    assert client.post(admin_url(Event, "delete", event.pk), {"post": "yes"}).status_code == 403
    bulk_delete = client.post(
        admin_url(Event, "changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk_delete.status_code in (200, 302, 403)
    assert list(Event.objects.values_list("pk", "reason", "kind")) == before


def test_escalations_are_read_only_in_the_admin(client, superuser, filled):
    sign_in(client, superuser)
    page = client.get(admin_url(type(filled), "change", filled.pk))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert (
        client.post(admin_url(type(filled), "delete", filled.pk), {"post": "yes"}).status_code
        == 403
    )


def test_the_escalation_and_event_lists_do_not_query_per_row(
    client, superuser, world, django_assert_max_num_queries
):
    for _ in range(5):
        OpenEscalationFactory()
    sign_in(client, superuser)
    for model in (type(OpenEscalationFactory()), Event):
        with django_assert_max_num_queries(12):
            assert client.get(admin_url(model, "changelist")).status_code == 200


def test_a_practitioner_cannot_open_the_admin(client, world):
    sign_in(client, world.alice)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
