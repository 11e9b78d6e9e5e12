"""GOV.UK Notify's delivery receipts (its callback, with the bearer token the partnership set):
delivered notices are marked so; undelivered ones return to the Undelivered notices page and
/healthz's count, audited; a wrong token, an unknown message or a malformed receipt changes
nothing. The messages are sent first through the local fake of Notify's API."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from audit.models import AuditEntry
from escalations import notifications
from escalations.models import Notice, NoticeKind, Pulse, PulseKind
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in

from .test_govuk_notify import UNDELIVERED, notify_on  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
RECEIPTS = "/notifications/govuk-notify/receipts/"
TOKEN = "callback-token-for-tests-0123456789"


@pytest.fixture
def sent(notify_on, world, settings):  # noqa: F811 (the fixture imported above)
    """An immediate-risk alert emailed and texted to Carol through the fake Notify."""
    settings.GOVUK_NOTIFY_CALLBACK_TOKEN = TOKEN
    world.carol.mobile = "+447700900123"
    world.carol.save()
    escalation = OpenEscalationFactory(immediate_risk=True)
    assert notifications.relay(urgent_only=True).sent == 1
    return Notice.objects.get(escalation=escalation, kind=NoticeKind.IMMEDIATE_RISK)


def receipt(notice: Notice, status: str, *, kind: str = "email", **changes) -> dict:
    """The body Notify posts to a callback URL."""
    return {
        "id": notice.notify_text_id if kind == "sms" else notice.notify_email_id,
        "reference": notice.key,
        "to": notice.recipient.email,
        "status": status,
        "created_at": "2026-11-09T10:00:00.000000Z",
        "completed_at": "2026-11-09T10:00:05.000000Z",
        "sent_at": "2026-11-09T10:00:01.000000Z",
        "notification_type": kind,
        "template_id": "00000000-0000-4000-8000-000000000001",
        "template_version": 1,
        **changes,
    }


def post(body, token: str | None = TOKEN, client: Client | None = None):
    # Notify has no session and no CSRF token: the callback must work without one.
    client = client or Client(enforce_csrf_checks=True)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(RECEIPTS, json.dumps(body), content_type="application/json", headers=headers)


def test_a_delivered_receipt_marks_the_notice_delivered_and_is_audited(sent):
    response = post(receipt(sent, "delivered"))
    assert response.status_code == 200 and response.json() == {"recorded": 1}
    sent.refresh_from_db()
    assert sent.email_status == "delivered" and sent.delivered_at is not None
    assert not sent.email_given_up and sent.emailed_at is not None
    entry = AuditEntry.objects.get(object_type="notice", object_id=str(sent.pk))
    assert "email delivered" in entry.what
    assert entry.partnership_id == sent.escalation.partnership_id
    # Notify repeats a callback it is not sure arrived: the same state again, no error.
    assert post(receipt(sent, "delivered")).status_code == 200


@pytest.mark.parametrize("status", ["permanent-failure", "temporary-failure", "technical-failure"])
def test_an_undelivered_email_goes_back_to_the_undelivered_page_and_healthz(
    sent, status, client, world
):
    assert post(receipt(sent, status)).status_code == 200
    sent.refresh_from_db()
    assert sent.email_given_up and sent.emailed_at is None and sent.email_status == status
    assert status in sent.email_error and "could not deliver the email" in sent.email_error
    Pulse.objects.record(PulseKind.WORKER, "alive")
    health = client.get("/healthz").json()
    assert health["notices_given_up"] == 1 and health["notices_not_delivered"] == 1
    entry = AuditEntry.objects.get(object_type="notice", object_id=str(sent.pk))
    assert f"Not delivered: {status}" in str(entry.changes)
    sign_in(client, world.kim)
    page = client.get(UNDELIVERED).content.decode()
    assert sent.escalation.reference in page and status in page


def test_send_again_after_a_failed_text_sends_only_the_text(sent, client, world, notify_on):  # noqa: F811
    assert post(receipt(sent, "delivered")).status_code == 200
    assert post(receipt(sent, "permanent-failure", kind="sms")).status_code == 200
    sent.refresh_from_db()
    assert sent.email_given_up and sent.text_status == "permanent-failure"
    assert "could not deliver the text message" in sent.email_error
    sign_in(client, world.kim)
    client.post(f"{UNDELIVERED}{sent.pk}/send-again/")
    assert notifications.relay(urgent_only=True).sent == 1
    assert len(notify_on.emails()) == 1 and len(notify_on.texts()) == 2
    sent.refresh_from_db()
    assert sent.emailed_at is not None and sent.text_status == ""


@pytest.mark.parametrize("token", [None, "wrong-token", f"{TOKEN}x"])
def test_a_receipt_without_the_right_token_is_refused(sent, token):
    response = post(receipt(sent, "permanent-failure"), token=token)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    sent.refresh_from_db()
    assert not sent.email_given_up and sent.email_status == ""
    assert not AuditEntry.objects.filter(object_type="notice").exists()


def test_with_no_token_configured_every_receipt_is_refused(sent, settings):
    settings.GOVUK_NOTIFY_CALLBACK_TOKEN = ""
    assert post(receipt(sent, "delivered"), token="").status_code == 401
    assert post(receipt(sent, "delivered"), token="Bearer ").status_code == 401


def test_a_receipt_for_a_message_the_portal_did_not_send_is_refused(sent):
    unknown_id = receipt(sent, "permanent-failure", id="5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d")
    assert post(unknown_id).status_code == 404
    wrong_reference = receipt(sent, "permanent-failure", reference="1:0:raised:99:")
    assert post(wrong_reference).status_code == 404
    sent.refresh_from_db()
    assert not sent.email_given_up and sent.email_status == ""


def test_a_malformed_receipt_is_refused_saying_why(sent):
    missing_id = post({"status": "delivered"})
    assert missing_id.status_code == 400 and "'id'" in missing_id.json()["error"]
    not_final = post(receipt(sent, "sending"))
    assert not_final.status_code == 400 and "status 'sending'" in not_final.json()["error"]
    not_json = Client().post(
        RECEIPTS, "not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]


def test_the_receipt_route_takes_only_post(sent):
    assert Client().get(RECEIPTS, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_only_notifys_callback_and_the_token_api_are_exempt_from_csrf():
    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            else:
                yield prefix + str(entry.pattern), entry.callback

    exempt = [
        route
        for route, view in walk(get_resolver().url_patterns)
        if getattr(view, "csrf_exempt", False)
    ]
    assert "notifications/govuk-notify/receipts/" in exempt
    # The API authenticates a token on each request and never a session (ADR 0029).
    assert [r for r in exempt if not r.startswith("api/")] == [
        "notifications/govuk-notify/receipts/"
    ]
