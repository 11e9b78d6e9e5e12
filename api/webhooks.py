"""Signed webhooks: each event an agency may see, POSTed to its case system (docs/adr/0034).

The events table is the outbox: every event is written in the transaction of the change it
records. A webhook keeps a cursor, the last event its system accepted. A push claims the
webhook for a lease in a short transaction, commits, then sends the settled events after the
cursor one at a time, with no transaction open, and moves the cursor after each 2xx in one
UPDATE. A failure (any other answer, no answer within WEBHOOK_TIMEOUT_SECONDS, a refused
connection) leaves the cursor where it was: the push stops and the webhook waits a doubling
time before the next, so nothing is lost. Each event carries its id (`X-Portal-Event`,
escalation reference and sequence) so the one resend no outbox can exclude (killed between the
system's 2xx and the UPDATE) is recognisable.

What is sent is what the changes endpoint gives for the event, from the same query
(api.changes.settled_events) over Escalation.objects.visible_to an in-memory safeguarding lead
of the agency (api.principal): not a row more than the agency's token would see.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from api.changes import settled_events
from api.models import Webhook
from api.principal import lead_view_person
from api.serializers import EventSerializer
from audit.log import entry_for
from audit.models import AuditEntry
from escalations.models import Escalation, Event

SIGNATURE_HEADER = "X-Portal-Signature"
EVENT_HEADER = "X-Portal-Event"
PAGE = 50


class AgencySystem:
    """visible_to's user for a webhook: its agency's safeguarding lead, no one in particular."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, agency):
        self.agency = agency
        self._portal_person = lead_view_person(agency)


def new_secret() -> str:
    return "epwh_" + secrets.token_urlsafe(32)


def set_up(agency, url: str, by) -> Webhook:
    """The agency's webhook, replacing any live one; it starts after the latest event, so
    the system is told of what happens from now (the changes endpoint gives the past)."""
    with transaction.atomic():
        Webhook.objects.filter(agency=agency, stopped_on__isnull=True).update(
            stopped_on=timezone.now()
        )
        # scoped-lookup: allowed (an id only: where the new webhook's cursor starts)
        latest = Event.objects.aggregate(last=Max("pk"))["last"] or 0
        return Webhook.objects.create(
            agency=agency, url=url, secret=new_secret(), created_by=by, cursor=latest
        )


def stop(webhook: Webhook) -> bool:
    return bool(
        Webhook.objects.filter(pk=webhook.pk, stopped_on__isnull=True).update(
            stopped_on=timezone.now()
        )
    )


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`: the time is signed too, so a
    receiver can refuse an old message replayed."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _due(now):
    return Webhook.objects.filter(stopped_on__isnull=True).filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now),
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
    )


def _claim(pk: int, now) -> Webhook | None:
    with transaction.atomic():
        webhook = (
            _due(now)
            .select_for_update(skip_locked=True)
            .select_related("agency")
            .filter(pk=pk)
            .first()
        )
        if webhook is None:
            return None
        lease = timedelta(seconds=settings.NOTICE_CLAIM_LEASE_SECONDS)
        Webhook.objects.filter(pk=pk).update(claimed_until=timezone.now() + lease)
    return webhook


def _send(webhook: Webhook, event: Event) -> None:
    body = json.dumps(EventSerializer(event).data, sort_keys=True).encode()
    response = requests.post(
        webhook.url,
        data=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(webhook.secret, int(time.time()), body),
            EVENT_HEADER: f"{event.escalation.reference}:{event.sequence}",
        },
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        allow_redirects=False,
    )
    if not 200 <= response.status_code < 300:
        raise requests.HTTPError(f"the case system answered {response.status_code}")


def _audit(webhook: Webhook, event: Event) -> None:
    """A pushed event is a read by the case system, audited like an API read."""
    entry = entry_for(
        None, kind=AuditEntry.Kind.READ, what="API: webhook event", escalation=event.escalation
    )
    entry.username = f"webhook: {webhook.agency.name}"[:150]
    entry.reference = event.escalation.reference or ""
    entry.save()


def push(*, now=None) -> dict:
    """Send every due webhook its settled events; {"sent": n, "failed": n}. Call it outside
    any transaction (the beat task does)."""
    now = now or timezone.now()
    result = {"sent": 0, "failed": 0}
    for pk in list(_due(now).values_list("pk", flat=True)):
        webhook = _claim(pk, now)
        if webhook is None:
            continue
        visible = Escalation.objects.visible_to(AgencySystem(webhook.agency))
        events, _ = settled_events(visible, webhook.cursor, PAGE)
        failure = None
        for event in events:
            try:
                _send(webhook, event)
            except requests.RequestException as error:
                failure = error
                break
            Webhook.objects.filter(pk=pk).update(
                cursor=event.pk, attempts=0, last_error="", last_delivered_on=timezone.now()
            )
            _audit(webhook, event)
            result["sent"] += 1
        if failure is None:
            Webhook.objects.filter(pk=pk).update(claimed_until=None, retry_at=None)
            continue
        result["failed"] += 1
        attempts = webhook.attempts + 1
        wait = settings.NOTICE_EMAIL_RETRY_SECONDS * 2 ** min(attempts - 1, 8)
        Webhook.objects.filter(pk=pk).update(
            claimed_until=None,
            attempts=F("attempts") + 1,
            retry_at=timezone.now() + timedelta(seconds=wait),
            last_error=f"{type(failure).__name__}: {failure}"[:300],
        )
    return result
