"""The partnership administrator sees the notices whose email gave up, each with its reason,
and sends one again: audited, back in the outbox for the relay. Only their own partnership's."""

from __future__ import annotations

import pytest
from django.core import mail

from audit.models import AuditEntry
from escalations import notifications
from escalations.models import Notice, NoticeKind
from policies.models import Role
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in
from tests.personas import make_person

pytestmark = pytest.mark.django_db
PAGE = "/manage/partnerships/kirklees/undelivered-notices/"
REASON = "SMTPServerDisconnected: Connection unexpectedly closed"


@pytest.fixture
def gave_up(world):
    """An urgent alert to Carol that the relay gave up on."""
    escalation = OpenEscalationFactory(immediate_risk=True)
    alert = Notice.objects.get(escalation=escalation, kind=NoticeKind.IMMEDIATE_RISK)
    Notice.objects.filter(pk=alert.pk).update(
        email_given_up=True, email_attempts=6, email_error=REASON
    )
    alert.refresh_from_db()
    return alert


def test_the_administrator_sees_each_undelivered_notice_with_its_reason(client, world, gave_up):
    sign_in(client, world.kim)
    overview = client.get("/manage/partnerships/kirklees/").content.decode()
    assert f'href="{PAGE}"' in overview
    page = client.get(PAGE).content.decode()
    assert "Immediate risk alert" in page
    assert gave_up.escalation.reference in page
    assert "Carol" in page and REASON in page and "6 attempts" in page
    assert f"{PAGE}{gave_up.pk}/send-again/" in page
    # Nothing about the child: the page shows what the email shows.
    assert gave_up.escalation.child.family_name not in page


def test_send_again_is_audited_and_the_relay_sends_it(client, world, gave_up):
    sign_in(client, world.kim)
    response = client.post(f"{PAGE}{gave_up.pk}/send-again/")
    assert response.status_code == 302 and response["Location"] == PAGE
    gave_up.refresh_from_db()
    assert not gave_up.email_given_up and gave_up.email_attempts == 0
    entry = AuditEntry.objects.get(object_type="notice", object_id=str(gave_up.pk))
    assert entry.user == world.kim.user and entry.partnership_id == world.kirklees.pk
    assert "Immediate risk alert" in entry.what
    assert REASON in str(entry.changes)
    assert "Every notice has been emailed" in client.get(PAGE).content.decode()
    mail.outbox.clear()
    assert notifications.relay(urgent_only=True).sent == 1
    assert mail.outbox[0].to == [world.carol.email]


def test_a_notice_to_someone_who_has_left_is_not_sent_again(client, world, gave_up):
    world.carol.user.is_active = False
    world.carol.user.save()
    sign_in(client, world.kim)
    response = client.post(f"{PAGE}{gave_up.pk}/send-again/", follow=True)
    assert "has left" in response.content.decode()
    gave_up.refresh_from_db()
    assert gave_up.email_given_up
    assert not AuditEntry.objects.filter(object_type="notice").exists()


def test_only_the_partnerships_own_notices(client, world, gave_up):
    yan = make_person("yan", "Yan Young", (world.berkshire, Role.PARTNERSHIP_ADMIN))
    sign_in(client, yan)
    page = client.get("/manage/partnerships/berkshire/undelivered-notices/").content.decode()
    assert "Immediate risk alert" not in page and "Every notice has been emailed" in page
    client.post(f"/manage/partnerships/berkshire/undelivered-notices/{gave_up.pk}/send-again/")
    gave_up.refresh_from_db()
    assert gave_up.email_given_up
    assert client.get(PAGE).status_code == 404  # another partnership's pages
    # A safeguarding lead runs their agency's people, not its notices.
    sign_in(client, world.carol)
    assert client.get(f"/manage/agencies/{world.school.pk}/undelivered-notices/").status_code == 404


def test_a_notice_held_back_because_its_reader_lost_access_is_not_undelivered(
    client, world, gave_up
):
    """A notice not emailed because its recipient may no longer open the escalation (ADR 0028)
    is not a delivery failure: the administrator is not asked to send it again, and /healthz
    does not count it among the notices given up."""
    Notice.objects.filter(pk=gave_up.pk).update(email_given_up=False, email_attempts=0)
    Notice.objects.filter(pk=gave_up.pk).update(hidden_at=gave_up.created_at)
    notifications.relay(urgent_only=True)
    gave_up.refresh_from_db()
    assert gave_up.email_given_up and gave_up.emailed_at is None  # held back, not sent
    sign_in(client, world.kim)
    page = client.get(PAGE).content.decode()
    assert gave_up.escalation.reference not in page
    assert "Every notice has been emailed" in page
    health = client.get("/healthz").json()
    assert health["notices_given_up"] == 0
