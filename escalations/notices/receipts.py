"""GOV.UK Notify's delivery receipts: a notice Notify delivered is marked so; one it could not
deliver goes back to the partnership administrator's Undelivered notices page (and /healthz
counts it), with Notify's reason, and "Send again" sends only the message that failed.

A receipt names the message by Notify's id and the reference the portal gave it (the notice
key, or a digest's); a receipt that matches no message the portal sent is refused, so a
guessed or replayed callback changes nothing. Each receipt is audited. Notify repeats a
callback it is not sure arrived; a repeated receipt records the same state again.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.log import record
from audit.models import AuditEntry
from escalations.models import Notice
from escalations.notices.notify import DELIVERED, FAILED

CHANNEL_WORDS = {"email": "Email", "sms": "Text message"}


class BadReceipt(ValueError):
    """The receipt is not one Notify sends (a field missing or of an unknown value)."""


class UnknownReceipt(LookupError):
    """The receipt names no message the portal sent."""


def _field(payload: dict, name: str) -> str:
    value = payload.get(name) if isinstance(payload, dict) else None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise BadReceipt(f"The receipt's {name!r} is missing or not text.")
    return value


def _sent_as(notice: Notice, reference: str) -> bool:
    return reference == notice.key or reference.startswith(f"digest:{notice.recipient_id}:")


def record_receipt(payload: dict, request=None) -> int:
    """Record one delivery receipt; how many notices it was about (a digest's covers several)."""
    notify_id = _field(payload, "id")
    reference = _field(payload, "reference")
    status = _field(payload, "status")
    channel = _field(payload, "notification_type")
    if status != DELIVERED and status not in FAILED:
        raise BadReceipt(f"The receipt's status {status!r} is not one Notify reports.")
    if channel not in CHANNEL_WORDS:
        raise BadReceipt(f"The receipt's notification_type {channel!r} is not email or sms.")
    id_field, status_field = (
        ("notify_text_id", "text_status")
        if channel == "sms"
        else ("notify_email_id", "email_status")
    )
    with transaction.atomic():
        notices = [
            notice
            # scoped-lookup: allowed (Notify's receipt for messages the relay sent; no record is shown)
            for notice in Notice.objects.select_for_update(of=("self",))
            .select_related("escalation", "conference_report")
            .filter(Q(**{id_field: notify_id}))
            .order_by("pk")
            if _sent_as(notice, reference)
        ]
        if not notices:
            raise UnknownReceipt(reference)
        now = timezone.now()
        what = CHANNEL_WORDS[channel]
        if status == DELIVERED:
            update = {status_field: status, "delivered_at": now}
            after = "Delivered"
        else:
            why = (
                f"GOV.UK Notify could not deliver the {what.lower()} ({status}): {FAILED[status]}."
            )
            # Back on the Undelivered notices page: "Send again" sends only this message.
            update = {
                status_field: status,
                "emailed_at": None,
                "email_given_up": True,
                "email_error": why[:300],
            }
            after = f"Not delivered: {status}"
        # scoped-lookup: allowed (the notices this receipt matched above)
        Notice.objects.filter(pk__in=[n.pk for n in notices]).update(**update)
        for notice in notices:
            record(
                request,
                kind=AuditEntry.Kind.SYSTEM,
                what=f"GOV.UK Notify receipt: {what.lower()} {after.lower()}"[:200],
                object_type="notice",
                object_id=str(notice.pk),
                partnership_id=notice.partnership_id,
                changes=[(what, "Sent to GOV.UK Notify", after)],
            )
    return len(notices)
