"""Leavers lose access at once; their work is passed on, with an event and a notice; their
name stays in the history; nothing is deleted."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from escalations import services
from escalations.models import Escalation, Event, EventKind, Notice, NoticeKind, State
from people.models import Handover
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db
KIRKLEES = "/manage/partnerships/kirklees"


def test_marking_a_leaver_ends_sign_in_and_every_session_at_once(client, world):
    alices_browser = Client()
    sign_in(alices_browser, world.alice)
    assert alices_browser.get("/").status_code == 200
    sign_in(client, world.kim)
    response = client.post(f"{KIRKLEES}/people/{world.alice.pk}/leaver/")
    assert response.status_code == 302
    assert response["Location"] == f"{KIRKLEES}/people/{world.alice.pk}/pass-on/"
    world.alice.user.refresh_from_db()
    assert not world.alice.user.is_active
    assert not Session.objects.filter(session_key=alices_browser.session.session_key).exists()
    refused = alices_browser.get("/")
    assert refused.status_code == 302 and refused["Location"].startswith("/sign-in/")
    again = Client()
    again.post("/sign-in/", {"username": "alice", "password": "correct-horse-battery-staple"})
    assert again.get("/").status_code == 302
    # Nothing deleted: the person and her roles stay, marked as left.
    world.alice.refresh_from_db()
    assert world.alice.left_on is not None and world.alice.left_recorded_by == world.kim
    assert world.alice.memberships.count() == 1


def test_an_administrator_cannot_mark_someone_with_roles_elsewhere(client, world):
    world.alice.memberships.create(
        agency=world.berkshire_school, role="practitioner", job_title="Supply Teacher"
    )
    sign_in(client, world.kim)
    assert client.get(f"{KIRKLEES}/people/{world.alice.pk}/leaver/").status_code == 404
    world.alice.user.refresh_from_db()
    assert world.alice.user.is_active


def three_open_escalations(world):
    """Alice raised one at stage 1, holds one passed up to stage 2 (Bob escalates, approved),
    and raised one waiting for Carol's approval: three open escalations she takes part in."""
    first = OpenEscalationFactory()
    second = OpenEscalationFactory()
    third = OpenEscalationFactory()
    services.escalate(third, by=world.alice, reason="No reply from CSC.")
    return [first, second, third]


def test_a_leavers_open_escalations_are_listed_and_passed_on_with_an_event_and_a_notice(
    client, world
):
    escalations = three_open_escalations(world)
    sam = world.alice.__class__.objects.get(pk=_sam(world).pk)
    sign_in(client, world.kim)
    client.post(f"{KIRKLEES}/people/{world.alice.pk}/leaver/")
    page = client.get(f"{KIRKLEES}/people/{world.alice.pk}/pass-on/")
    assert page.status_code == 200
    content = page.content.decode()
    assert content.count("They raised it and hold it now") == 3
    assert "Sam Stone" in content
    # The administrator is not a party: references and child names are not shown.
    assert "Poppy" not in content
    assert escalations[0].reference not in content
    choices = {f"{esc.pk}-raising": str(sam.pk) for esc in escalations}
    response = client.post(f"{KIRKLEES}/people/{world.alice.pk}/pass-on/", choices)
    assert response.status_code == 302
    for esc in escalations:
        esc = Escalation.objects.get(pk=esc.pk)
        assert esc.raised_by == sam and esc.holder == sam
        event = esc.events.get(kind=EventKind.REASSIGNED)
        assert event.actor == world.kim
        assert "Alice Able has left" in event.reason and "Sam Stone" in event.reason
        assert Notice.objects.filter(escalation=esc, recipient=sam, kind=NoticeKind.REASSIGNED)
        # History keeps her name: the raise event is hers.
        assert esc.events.get(kind=EventKind.RAISED).actor == world.alice
    assert Handover.objects.filter(leaver=world.alice).count() == 6
    again = client.get(f"{KIRKLEES}/people/{world.alice.pk}/pass-on/").content.decode()
    assert "no part left to pass on" in again
    # Sam now sees them, and can act on them.
    sams = Client()
    sign_in(sams, sam)
    assert sams.get(f"/escalations/{escalations[0].reference}/").status_code == 200


def test_only_someone_in_the_same_agency_and_role_may_take_it_on(client, world):
    esc = OpenEscalationFactory()
    _sam(world)
    sign_in(client, world.kim)
    client.post(f"{KIRKLEES}/people/{world.alice.pk}/leaver/")
    response = client.post(
        f"{KIRKLEES}/people/{world.alice.pk}/pass-on/", {f"{esc.pk}-raising": str(world.bob.pk)}
    )
    assert response.status_code == 400
    assert b"Select someone from the list" in response.content
    assert Escalation.objects.get(pk=esc.pk).raised_by == world.alice
    assert not Event.objects.filter(kind=EventKind.REASSIGNED).exists()


def test_the_challenged_practitioner_and_the_counterpart_are_passed_on_too(client, world):
    esc = OpenEscalationFactory()
    erin2 = _person(world, "erin2", "Eve Second", world.csc, "practitioner")
    sign_in(client, world.kim)
    client.post(f"{KIRKLEES}/people/{world.erin.pk}/leaver/")
    content = client.get(f"{KIRKLEES}/people/{world.erin.pk}/pass-on/").content.decode()
    assert "are the practitioner challenged and are the other agency" in content
    client.post(
        f"{KIRKLEES}/people/{world.erin.pk}/pass-on/", {f"{esc.pk}-receiving": str(erin2.pk)}
    )
    esc = Escalation.objects.get(pk=esc.pk)
    assert esc.receiving_person == erin2
    assert services.current_episode(esc).counterpart == erin2
    # The earlier stage keeps who acted then: here the same episode, now Eve's.


def test_a_leaving_safeguarding_lead_is_listed_for_the_approval_waiting_on_them(client, world):
    esc = OpenEscalationFactory()
    services.escalate(esc, by=world.alice, reason="No reply.")
    assert Escalation.objects.get(pk=esc.pk).state == State.AWAITING_APPROVAL
    second_lead = _person(world, "lena", "Lena Lead", world.school, "safeguarding_lead")
    sign_in(client, world.kim)
    client.post(f"{KIRKLEES}/people/{world.carol.pk}/leaver/")
    content = client.get(f"{KIRKLEES}/people/{world.carol.pk}/pass-on/").content.decode()
    assert "are asked to approve the next stage" in content
    client.post(
        f"{KIRKLEES}/people/{world.carol.pk}/pass-on/",
        {f"{esc.pk}-approval": str(second_lead.pk)},
    )
    assert Notice.objects.filter(
        escalation=esc, recipient=second_lead, kind=NoticeKind.REASSIGNED
    ).exists()
    assert b"no part left" in client.get(f"{KIRKLEES}/people/{world.carol.pk}/pass-on/").content


def test_a_lead_passes_on_a_practitioners_work_in_their_own_agency_only(client, world):
    esc = OpenEscalationFactory()
    sam = _sam(world)
    sign_in(client, world.carol)
    base = f"/manage/agencies/{world.school.pk}"
    client.post(f"{base}/people/{world.alice.pk}/leaver/")
    client.post(f"{base}/people/{world.alice.pk}/pass-on/", {f"{esc.pk}-raising": str(sam.pk)})
    assert Escalation.objects.get(pk=esc.pk).raised_by == sam
    # Erin is not the school's: the lead cannot reach her.
    assert client.get(f"{base}/people/{world.erin.pk}/pass-on/").status_code == 404
    assert client.get(f"{base}/people/{world.dan.pk}/leaver/").status_code == 404


def test_the_pass_on_page_stays_within_its_query_budget(
    client, world, django_assert_max_num_queries
):
    for _ in range(3):
        OpenEscalationFactory()
    _sam(world)
    sign_in(client, world.kim)
    client.post(f"{KIRKLEES}/people/{world.alice.pk}/leaver/")
    with django_assert_max_num_queries(16):
        assert client.get(f"{KIRKLEES}/people/{world.alice.pk}/pass-on/").status_code == 200


def _person(world, username, name, agency, role):
    from tests.personas import make_person

    return make_person(username, name, (agency, role))


def _sam(world):
    return _person(world, "sam", "Sam Stone", world.school, "practitioner")
