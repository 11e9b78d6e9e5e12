"""The outbox relay: emails for Notice rows, each sent once, in working hours unless urgent.

Notice rows are written in the same transaction as the change that causes them (services,
the deadline sweep). The relay never sends while it holds the database: it claims a notice in
a short transaction (`SELECT ... FOR UPDATE SKIP LOCKED`, then a lease in
`email_claimed_until`), commits, sends with no transaction open and no row locked, and then
records the result in a single UPDATE. A mail server that hangs therefore holds nothing a
person or the sweep waits on (a person's "mark read" updates the same row), and EMAIL_TIMEOUT
bounds how long it holds the relay. A relay killed after its claim leaves the lease to run
out; the next run sends the notice.
One window no outbox can close remains: the mail server has accepted a message and the
process dies before the recording UPDATE lands (one statement, milliseconds); that notice is
sent again, with the same Message-ID and X-Portal-Notice key, so mail clients fold the two
(the SMTP duplicate of RFC 1047).
Emails carry the reference, the kind, the due moment and a link; never a child's name, date
of birth or address (emails are not a secure channel). Notices about a child protection
conference concern carry only that there is one, and a link: never the family identifier or
the details. What a notice says is escalations.notices.summary, the same on the page.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from cases.models import Person
from escalation_portal import broker
from escalations.models import Notice, Pulse, PulseKind
from escalations.notices import notify
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


def deliver_notice(notice: Notice) -> None:
    """Send one notice by the configured channel: SMTP (the default) or GOV.UK Notify."""
    if notify.in_use():
        notify.send_notice(notice, notice_summary(notice))
    else:
        notice_email(notice).send()


def deliver_digest(person: Person, notices: list[Notice], day) -> None:
    if notify.in_use():
        summaries = [notice_summary(n) for n in notices]
        notify.send_digest(person, notices, summaries, day, escalation_url(None))
    else:
        digest_email(person, notices, day).send()


# --- relaying -----------------------------------------------------------------------------


def _unsent(now: datetime):
    return Notice.objects.filter(emailed_at__isnull=True, email_given_up=False).filter(
        Q(email_retry_at__isnull=True) | Q(email_retry_at__lte=now),
        Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now),
    )


def claim_lease() -> timedelta:
    """Longer than one send can take (EMAIL_TIMEOUT, and the relay task's hard time limit); a
    claim older than this is taken to be a dead relay's, and the notice is sent again."""
    return timedelta(seconds=settings.NOTICE_CLAIM_LEASE_SECONDS)


def _claim(queryset, now: datetime) -> list[int]:
    """Claim the notices of queryset that no other relay holds, in one short transaction: lock
    them (skipping locked ones), mark them claimed for the lease, count the attempt, commit.
    Only the notice rows are locked (of=self), never the escalation people act on."""
    with transaction.atomic():
        pks = list(
            queryset.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)
        )
        if pks:
            Notice.objects.filter(pk__in=pks).update(
                email_claimed_until=timezone.now() + claim_lease(),
                email_attempts=F("email_attempts") + 1,
            )
    return pks


def _sent(pks: list[int]) -> None:
    # The one statement between the mail server's acceptance and the record of it.
    Notice.objects.filter(pk__in=pks).update(
        emailed_at=timezone.now(), email_claimed_until=None, email_error=""
    )


def _failed(notices: list[Notice], exc: BaseException, result: RelayResult) -> None:
    """Record a failed attempt: retried after a wait that doubles each time, given up after
    NOTICE_EMAIL_MAX_ATTEMPTS (the partnership administrator can send it again)."""
    # Notify's failures are already in words; a mail server's are named by their type.
    words = isinstance(exc, notify.Refused | notify.Unavailable)
    error = (str(exc) if words else f"{type(exc).__name__}: {exc}")[:300]
    now = timezone.now()
    for notice in notices:
        update: dict = {"email_claimed_until": None, "email_error": error}
        # Notify's 400 (an address or a field it will not take) is given up at once, with its
        # words: the same message would be refused at every try.
        refused = isinstance(exc, notify.Refused)
        if refused or notice.email_attempts >= settings.NOTICE_EMAIL_MAX_ATTEMPTS:
            update["email_given_up"] = True
            result.given_up += 1
            logger.error(
                "Notice %s: email given up after %s attempts (%s)",
                notice.pk,
                notice.email_attempts,
                error,
            )
        else:
            backoff = settings.NOTICE_EMAIL_RETRY_SECONDS * 2 ** (notice.email_attempts - 1)
            update["email_retry_at"] = now + timedelta(seconds=backoff)
            result.failed += 1
        Notice.objects.filter(pk=notice.pk).update(**update)
    result.errors.append(error)
    Pulse.objects.record(PulseKind.MAIL_FAILED, error)


def mail_server_failed(exc: BaseException) -> bool:
    """A failure of the mail server itself (refused, hung, dropped, timed out; or the task's
    time running out mid-send), which every following send would meet too; as opposed to one
    message refused (an address the server will not take). GOV.UK Notify's the same way:
    Unavailable (its key, rate limit, failure or silence) stops the run; Refused does not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return False
    return isinstance(exc, OSError | SoftTimeLimitExceeded | notify.Unavailable)


def _send(deliver, notices: list[Notice], result: RelayResult) -> BaseException | None:
    """Build and send the message with no transaction open; the failure, if any."""
    try:
        deliver()
    except Exception as exc:  # any failure of the mail system is retried, boundedly
        _failed(notices, exc, result)
        return exc
    _sent([n.pk for n in notices])
    result.sent += len(notices)
    return None


def relay(
    *, urgent_only: bool = False, limit: int = 500, now: datetime | None = None
) -> RelayResult:
    """Email unsent notices: urgent ones at once, others in the working hours of their
    partnership, except to people who take a daily digest. Call it outside any transaction.

    The first failure ends the run: a mail server that refuses or hangs would fail the rest
    too, each after EMAIL_TIMEOUT, and the relay would hold a worker for all of them. They wait
    for the next run instead, unclaimed and with no attempt counted."""
    now = now or timezone.now()
    result = RelayResult()
    # A deactivated account is not emailed (its mailbox may be someone else's now).
    _unsent(now).filter(recipient__user__is_active=False).update(
        email_given_up=True, email_error="Account deactivated: not emailed."
    )
    # Nor is a notice its recipient may no longer open (ADR 0028): its link would not open.
    _unsent(now).filter(hidden_at__isnull=False).update(
        email_given_up=True, email_error="No longer theirs to open: not emailed."
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
    sent_any = False
    for pk in candidates:
        if not _claim(_unsent(now).filter(pk=pk), now):
            continue  # another relay has it, or sent it meanwhile
        notice = Notice.objects.select_related(
            "escalation__stage",
            "escalation__raising_agency",
            "escalation__receiving_agency",
            "recipient",
        ).get(pk=pk)
        failure = _send(lambda n=notice: deliver_notice(n), [notice], result)
        if failure is None:
            sent_any = True
        elif mail_server_failed(failure):
            break
    if sent_any:
        Pulse.objects.record(PulseKind.MAIL_SENT, f"{result.sent} sent")
    return result


def send_digests(*, now: datetime | None = None) -> RelayResult:
    """One email per person who chose a daily digest, listing their unsent notices. Call it
    outside any transaction: the notices are claimed, then sent, then recorded."""
    now = now or timezone.now()
    result = RelayResult()
    # Each notice waits for a working day of its own partnership: a closure day is not one.
    today = timezone.localtime(now).date()
    open_today = [
        p.pk
        for p in Partnership.objects.only("pk", "closure_dates_kept")
        if p.calendar().is_working_day(today)
    ]
    if not open_today:
        return result
    waiting = _unsent(now).filter(
        Q(escalation__partnership_id__in=open_today)
        | Q(conference_report__partnership_id__in=open_today),
        urgent=False,
    )
    people = list(
        Person.objects.filter(
            daily_digest=True,
            user__is_active=True,
            notices__in=waiting,
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    for person_id in people:
        pks = _claim(waiting.filter(recipient_id=person_id), now)
        if not pks:
            continue
        notices = list(
            Notice.objects.filter(pk__in=pks)
            .select_related(
                "escalation__stage",
                "escalation__raising_agency",
                "escalation__receiving_agency",
                "recipient",
            )
            .order_by("created_at", "pk")
        )
        failure = _send(
            lambda n=notices: deliver_digest(n[0].recipient, n, timezone.localdate(now)),
            notices,
            result,
        )
        if failure is not None and mail_server_failed(failure):
            break
    if result.sent:
        Pulse.objects.record(PulseKind.MAIL_SENT, f"{result.sent} sent in digests")
    return result


# --- after commit -------------------------------------------------------------------------


def relay_urgent_after_commit() -> None:
    """Once the current transaction commits, ask a worker to send urgent notices at once.
    If the broker is down the rows wait for the next relay run; nothing is lost."""
    transaction.on_commit(publish_urgent_relay, robust=True)


def publish_urgent_relay() -> bool:
    """Queue RELAY_TASK for urgent notices; False (logged) where the broker did not take it
    within a second (escalation_portal.broker): the person who raised the challenge does not
    wait on a broker that is down or frozen, and the relay's next run sends the alert."""
    return broker.publish(RELAY_TASK, {"urgent_only": True})
