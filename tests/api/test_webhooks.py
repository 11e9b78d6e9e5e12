"""Signed webhooks (ADR 0034): each event an agency may see is POSTed, signed, to its case
system, here a real HTTP server on this machine; a failure leaves the event to be sent again
later, in order; nothing is sent twice; nothing about another agency's escalations is sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from api import webhooks
from api.models import Webhook
from audit.models import AuditEntry
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


class Receiver:
    """A case system's endpoint: keeps what it is sent, answers the queued statuses (then 200)."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.received.append(
                    {"headers": dict(self.headers), "body": body, "status": status}
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/portal-events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self) -> list[dict]:
        return [r for r in self.received if r["status"] == 200]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.API_CHANGES_SETTLE_SECONDS = 0
    settings.NOTICE_EMAIL_RETRY_SECONDS = 600
    made = Receiver()
    yield made
    made.server.shutdown()


def later(minutes: int) -> dict:
    with time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False):
        return webhooks.push()


def test_each_event_is_sent_signed_once_in_order(receiver, world):
    hook = webhooks.set_up(world.school, receiver.url, world.carol)
    escalation = OpenEscalationFactory()
    result = webhooks.push()
    assert result["sent"] >= 1 and result["failed"] == 0
    events = [json.loads(r["body"]) for r in receiver.received]
    assert [e["escalation"] for e in events] == [escalation.reference] * len(events)
    assert [e["sequence"] for e in events] == sorted(e["sequence"] for e in events)
    for got in receiver.received:
        stamp, mac = got["headers"]["X-Portal-Signature"].split(",")
        timestamp = stamp.removeprefix("t=")
        expected = hmac.new(
            hook.secret.encode(), f"{timestamp}.".encode() + got["body"], hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(mac.removeprefix("v1="), expected)
        event = json.loads(got["body"])
        assert got["headers"]["X-Portal-Event"] == f"{event['escalation']}:{event['sequence']}"
    # Nothing about the child: the event is what the changes endpoint gives.
    assert escalation.child.family_name not in str(events)
    reads = AuditEntry.objects.filter(what="API: webhook event", reference=escalation.reference)
    assert reads.count() == len(events) and reads.first().username == "webhook: Meadow School"
    assert webhooks.push()["sent"] == 0  # no doubles
    assert len(receiver.received) == len(events)


def test_a_refusal_or_silence_is_retried_later_in_order_and_nothing_is_lost(receiver, world):
    webhooks.set_up(world.school, receiver.url, world.carol)
    OpenEscalationFactory()
    receiver.answers = [500]
    assert webhooks.push() == {"sent": 0, "failed": 1}
    hook = Webhook.objects.get()
    assert hook.attempts == 1 and "500" in hook.last_error and hook.retry_at is not None
    # Not before the wait; then every event, the refused one first.
    assert later(5) == {"sent": 0, "failed": 0}
    result = later(11)
    assert result["sent"] >= 1 and result["failed"] == 0
    refused, first_accepted = receiver.received[0], receiver.accepted()[0]
    assert refused["body"] == first_accepted["body"]
    assert Webhook.objects.get().attempts == 0


def test_a_case_system_that_does_not_answer_in_time_is_retried(receiver, world, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    webhooks.set_up(world.school, "http://10.255.255.1/unreachable", world.carol)
    OpenEscalationFactory()
    assert webhooks.push() == {"sent": 0, "failed": 1}
    assert Webhook.objects.get().last_error


def test_only_escalations_the_agency_is_party_to_are_sent(receiver, world):
    webhooks.set_up(world.berkshire_school, receiver.url, world.carol)
    OpenEscalationFactory()  # Kirklees: Meadow School challenges Northfold CSC
    assert webhooks.push()["sent"] == 0
    assert receiver.received == []


def test_events_before_the_webhook_was_set_are_left_to_the_changes_endpoint(receiver, world):
    OpenEscalationFactory()
    webhooks.set_up(world.school, receiver.url, world.carol)
    assert webhooks.push()["sent"] == 0


def test_the_lead_sets_the_webhook_sees_the_secret_once_and_stops_it(client, world, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    sign_in(client, world.carol)
    page = f"/case-systems/agencies/{world.school.pk}/"
    refused = client.post(f"{page}webhook/", {"url": "http://mosaic.example.org/events"})
    assert refused.status_code == 400
    assert "must start with https://" in refused.content.decode()
    assert not Webhook.objects.exists()
    response = client.post(f"{page}webhook/", {"url": "https://mosaic.example.org/events"})
    assert response.status_code == 302
    hook = Webhook.objects.get()
    first = client.get(page).content.decode()
    assert hook.secret in first and "https://mosaic.example.org/events" in first
    assert hook.secret not in client.get(page).content.decode()  # shown once
    assert AuditEntry.objects.filter(
        object_type="case-system webhook", what__contains="set"
    ).exists()
    client.post(f"{page}webhook/stop/")
    hook.refresh_from_db()
    assert hook.stopped_on is not None
    assert AuditEntry.objects.filter(what__contains="webhook stopped").exists()


def test_another_agencys_lead_cannot_set_or_stop_its_webhook(client, world):
    hook = webhooks.set_up(world.school, "https://mosaic.example.org/events", world.carol)
    sign_in(client, world.grace)  # Northfold CSC's lead
    page = f"/case-systems/agencies/{world.school.pk}/"
    assert client.post(f"{page}webhook/", {"url": "https://evil.example.org/"}).status_code == 404
    assert client.post(f"{page}webhook/stop/").status_code == 404
    hook.refresh_from_db()
    assert hook.stopped_on is None and hook.url == "https://mosaic.example.org/events"
