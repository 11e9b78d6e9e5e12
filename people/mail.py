"""Invitation emails. The invitation row is the outbox: claim it for a short lease (one
committed UPDATE), send with no transaction open and no row locked, then record the result.

A sender that dies after claiming leaves the lease to run out; the next run sends again with a
new link (each attempt makes a new secret, so only the latest link works). A failure is retried
after a wait that doubles each time, NOTICE_EMAIL_MAX_ATTEMPTS times at most, as notices are.
Emails carry the invitee's name, who invited them and to which roles: nothing about a child.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from people.audit import role_words
from people.models import Invitation, token_hash

logger = logging.getLogger(__name__)

# Longer than any send takes; a claim older than this is taken to be a dead sender's.
CLAIM_LEASE = timedelta(minutes=5)


@dataclass
class Sent:
    sent: int = 0
    failed: int = 0
    given_up: int = 0

    def as_dict(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "given_up": self.given_up}


def _due(now):
    return (
        Invitation.objects.filter(email_sent_at__isnull=True, email_given_up=False)
        .filter(Q(email_retry_at__isnull=True) | Q(email_retry_at__lte=now))
        .filter(Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now))
        # An account invitation is sent only while it can still be used.
        .filter(
            Q(kind=Invitation.Kind.ROLE_ADDED)
            | Q(
                accepted_on__isnull=True,
                cancelled_on__isnull=True,
                renewed_as__isnull=True,
                expires_at__gt=now,
            )
        )
    )


def send_due(*, limit: int = 200, now=None) -> Sent:
    """Send the invitation emails that are due. Call it outside any transaction."""
    result = Sent()
    now = now or timezone.now()
    for pk in list(_due(now).order_by("invited_on", "pk").values_list("pk", flat=True)[:limit]):
        token = secrets.token_urlsafe(32)
        claimed = (
            _due(now)
            .filter(pk=pk)
            .update(
                email_claimed_until=timezone.now() + CLAIM_LEASE,
                email_attempts=F("email_attempts") + 1,
                token_hash=token_hash(token),
            )
        )
        if not claimed:  # another sender has it, or it was sent or withdrawn meanwhile
            continue
        invitation = (
            Invitation.objects.select_related("invited_by")
            .prefetch_related("roles__agency", "roles__partnership")
            .get(pk=pk)
        )
        try:
            invitation_email(invitation, token).send()
        except Exception as exc:  # any failure of the mail system is retried, boundedly
            _failed(invitation, exc, result)
        else:
            Invitation.objects.filter(pk=pk).update(
                email_sent_at=timezone.now(), email_claimed_until=None, email_error=""
            )
            result.sent += 1
    return result


def _failed(invitation: Invitation, exc: Exception, result: Sent) -> None:
    error = f"{type(exc).__name__}: {exc}"[:300]
    attempts = invitation.email_attempts
    if attempts >= settings.NOTICE_EMAIL_MAX_ATTEMPTS:
        result.given_up += 1
        logger.error("Invitation %s: email given up after %s attempts", invitation.pk, attempts)
        update = {"email_given_up": True}
    else:
        result.failed += 1
        wait = settings.NOTICE_EMAIL_RETRY_SECONDS * 2 ** (attempts - 1)
        update = {"email_retry_at": timezone.now() + timedelta(seconds=wait)}
    Invitation.objects.filter(pk=invitation.pk).update(
        email_claimed_until=None, email_error=error, **update
    )


def link(token: str) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/invitation/{token}/"


def invitation_email(invitation: Invitation, token: str) -> EmailMultiAlternatives:
    account = invitation.kind == Invitation.Kind.ACCOUNT
    context = {
        "invitation": invitation,
        "roles": [role_words(r) for r in invitation.roles.all()],
        "link": link(token) if account else f"{settings.PORTAL_BASE_URL.rstrip('/')}/",
        "expires": timezone.localtime(invitation.expires_at),
        "returning": invitation.person_id is not None,
    }
    template = "account" if account else "role_added"
    message = EmailMultiAlternatives(
        subject="Your invitation to the Escalation Portal"
        if account
        else "You have a new role in the Escalation Portal",
        body=render_to_string(f"email/invitation_{template}.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(
        render_to_string(f"email/invitation_{template}.html", context), "text/html"
    )
    return message


def send_after_commit() -> None:
    """Once the invitation is committed, ask a worker to send it now; if the broker is down,
    the next scheduled run sends it (the row is already the outbox)."""
    transaction.on_commit(_publish, robust=True)


# Queued by name, like the urgent relay (docs/adr/0013-notices-and-the-relay-by-task-name.md): the task module imports this one, and a
# renamed task fails the start-up check escalations.E001 (it is in the beat schedule too).
SEND_TASK = "people.tasks.send_invitations"


def _publish() -> bool:
    """False (logged) where the broker did not take the message within a second; the next
    scheduled run sends the invitation (escalation_portal.broker)."""
    from escalation_portal import broker

    return broker.publish(SEND_TASK)
