"""The outbox relay: emails for Notice rows, each sent once, in working hours unless urgent.

Notice rows are written in the same transaction as the change that causes them (services,
the deadline sweep). The relay claims one row at a time with `FOR UPDATE SKIP LOCKED`, sends,
and marks it sent before the lock is released: two relays never send the same row, and a
relay killed mid-send leaves the row unsent (its transaction rolls back) for the next run.
One window no outbox can close remains: the mail server has accepted a message and the
process dies before its commit lands (milliseconds); that row is sent again, with the same
Message-ID, so mail clients can recognise the repeat (the SMTP duplicate of RFC 1047).
Emails carry the reference, the kind, the due moment and a link; never a child's name, date
of birth or address (emails are not a secure channel). Notices about a child protection
conference concern carry only that there is one, and a link: never the family identifier or
the details. What a notice says is escalations.notices.summary, the same on the page.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from cases.models import Person
from escalation_portal.celery import app
from escalations.models import Notice
from escalations.notices.summary import escalation_url, notice_summary
from policies.calendar import WorkingCalendar
from policies.models import Partnership

logger = logging.getLogger(__name__)

# The Celery task that relays notices (escalations.tasks), queued by name so that no domain
# module imports the tasks; a test and a system check fail loudly if the name is wrong.
RELAY_TASK = "escalations.tasks.relay_notices"


@dataclass
class RelayResult:
    sent: int = 0
    failed: int = 0
    given_up: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "errors"}


# --- when emails may go -------------------------------------------------------------------


def in_working_hours(moment: datetime, calendar: WorkingCalendar) -> bool:
    local = timezone.localtime(moment)
    start, end = settings.NOTIFY_START, settings.NOTIFY_END
    working_day = calendar.is_working_day(local.date()) or not settings.NOTIFY_WORKING_DAYS_ONLY
    return working_day and start <= local.time() < end


def open_partnerships(now: datetime) -> list[int]:
    """Partnerships for which it is now working hours on their own calendar."""
    return [
        p.pk
        for p in Partnership.objects.only("pk", "closure_dates_kept")
        if in_working_hours(now, p.calendar())
    ]


# --- the emails ---------------------------------------------------------------------------


def _message_id(name: str) -> str:
    # Stable per notice: a mail client that sees the rare resend (the relay killed between
    # the mail server's acceptance and the commit) can recognise it as the same message.
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "escalation-portal"
    return f"<{digest}@{domain}>"


def notice_email(notice: Notice) -> EmailMultiAlternatives:
    context = {"person": notice.recipient, "notice": notice_summary(notice)}
    subject = f"{'URGENT: ' if notice.urgent else ''}{notice.get_kind_display()}: {context['notice']['reference']}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("email/notice.txt", context),
        to=[notice.recipient.email],
        headers={"Message-ID": _message_id(notice.key), "X-Portal-Notice": notice.key},
    )
    message.attach_alternative(render_to_string("email/notice.html", context), "text/html")
    return message


def digest_email(person: Person, notices: list[Notice], day) -> EmailMultiAlternatives:
    context = {
        "person": person,
        "notices": [notice_summary(n) for n in notices],
        "day": f"{day:%A} {day.day} {day:%B %Y}",
        "url": escalation_url(None),
    }
    message = EmailMultiAlternatives(
        subject=f"Your escalation notices: {len(notices)} since the last digest",
        body=render_to_string("email/digest.txt", context),
        to=[person.email],
        headers={
            "Message-ID": _message_id(f"digest:{person.pk}:{day.isoformat()}"),
            "X-Portal-Notice": " ".join(n.key for n in notices),
        },
    )
    message.attach_alternative(render_to_string("email/digest.html", context), "text/html")
    return message


# --- relaying -----------------------------------------------------------------------------


def _unsent(now: datetime):
    return Notice.objects.filter(emailed_at__isnull=True, email_given_up=False).filter(
        Q(email_retry_at__isnull=True) | Q(email_retry_at__lte=now)
    )


def _failed(notice: Notice, exc: Exception, now: datetime, result: RelayResult) -> None:
    notice.email_error = f"{type(exc).__name__}: {exc}"[:300]
    if notice.email_attempts >= settings.NOTICE_EMAIL_MAX_ATTEMPTS:
        notice.email_given_up = True
        result.given_up += 1
        logger.error(
            "Notice %s: email given up after %s attempts", notice.pk, notice.email_attempts
        )
    else:
        backoff = settings.NOTICE_EMAIL_RETRY_SECONDS * 2 ** (notice.email_attempts - 1)
        notice.email_retry_at = now + timedelta(seconds=backoff)
        result.failed += 1
    result.errors.append(notice.email_error)


def relay(
    *, urgent_only: bool = False, limit: int = 500, now: datetime | None = None
) -> RelayResult:
    """Email unsent notices: urgent ones at once, others in the working hours of their
    partnership, except to people who take a daily digest."""
    now = now or timezone.now()
    result = RelayResult()
    # A deactivated account is not emailed (its mailbox may be someone else's now).
    _unsent(now).filter(recipient__user__is_active=False).update(
        email_given_up=True, email_error="Account deactivated: not emailed."
    )
    due = Q(urgent=True)
    if not urgent_only:
        open_now = open_partnerships(now)
        due |= Q(recipient__daily_digest=False) & (
            Q(escalation__partnership_id__in=open_now)
            | Q(conference_report__partnership_id__in=open_now)
        )
    candidates = list(
        _unsent(now)
        .filter(due)
        .order_by("-urgent", "created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in candidates:
        with transaction.atomic():
            # Only the notice row is locked (of=self), never the escalation people act on.
            notice = (
                _unsent(now)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related(
                    "escalation__stage",
                    "escalation__raising_agency",
                    "escalation__receiving_agency",
                    "recipient",
                )
                .filter(pk=pk)
                .first()
            )
            if notice is None:  # another relay has it, or sent it meanwhile
                continue
            notice.email_attempts += 1
            try:
                notice_email(notice).send()
            except Exception as exc:  # any failure of the mail system is retried, boundedly
                _failed(notice, exc, now, result)
            else:
                notice.emailed_at = timezone.now()
                notice.email_error = ""
                result.sent += 1
            notice.save(
                update_fields=[
                    "email_attempts",
                    "emailed_at",
                    "email_error",
                    "email_given_up",
                    "email_retry_at",
                ]
            )
    return result


def send_digests(*, now: datetime | None = None) -> RelayResult:
    """One email per person who chose a daily digest, listing their unsent notices."""
    now = now or timezone.now()
    result = RelayResult()
    if not WorkingCalendar().is_working_day(timezone.localtime(now).date()):
        return result
    people = list(
        Person.objects.filter(
            daily_digest=True,
            user__is_active=True,
            notices__in=_unsent(now).filter(urgent=False),
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    for person_id in people:
        with transaction.atomic():
            notices = list(
                _unsent(now)
                .filter(recipient_id=person_id, urgent=False)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related(
                    "escalation__stage",
                    "escalation__raising_agency",
                    "escalation__receiving_agency",
                    "recipient",
                )
                .order_by("created_at", "pk")
            )
            if not notices:
                continue
            person = notices[0].recipient
            for notice in notices:
                notice.email_attempts += 1
            try:
                digest_email(person, notices, timezone.localdate(now)).send()
            except Exception as exc:
                for notice in notices:
                    _failed(notice, exc, now, result)
            else:
                sent_at = timezone.now()
                for notice in notices:
                    notice.emailed_at = sent_at
                    notice.email_error = ""
                result.sent += len(notices)
            Notice.objects.bulk_update(
                notices,
                ["email_attempts", "emailed_at", "email_error", "email_given_up", "email_retry_at"],
            )
    return result


# --- after commit -------------------------------------------------------------------------


def relay_urgent_after_commit() -> None:
    """Once the current transaction commits, ask a worker to send urgent notices at once.
    If the broker is down the rows wait for the next relay run; nothing is lost."""
    transaction.on_commit(publish_urgent_relay, robust=True)


def publish_urgent_relay() -> bool:
    """Queue RELAY_TASK for urgent notices; False (logged) where the broker cannot be reached."""
    try:
        with app.connection_for_write() as conn:
            # Fail fast: a person raising a challenge must not wait on a broker that is down.
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            app.send_task(RELAY_TASK, kwargs={"urgent_only": True}, connection=conn, retry=False)
        return True
    except Exception as exc:
        logger.warning("Broker unreachable (%s): urgent notices go at the next relay run", exc)
        return False
