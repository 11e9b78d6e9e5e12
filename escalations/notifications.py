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
conference concern (Kirklees Appendix 3) carry only that there is one, and a link: never the
family identifier or the details.
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
from escalations.deadlines import moment_in_words
from escalations.models import ConferenceReport, Escalation, Notice, NoticeKind
from policies.calendar import WorkingCalendar
from policies.models import Partnership

logger = logging.getLogger(__name__)

# What each kind of notice asks of its reader, in the email and on the notifications page.
GUIDANCE = {
    NoticeKind.IMMEDIATE_RISK: "A challenge raised in your agency says a child may be at "
    "immediate risk of significant harm. Open it now and follow your emergency procedure.",
    NoticeKind.RAISED: "A challenge has been raised that involves you. Read it and respond.",
    NoticeKind.ESCALATED: "An escalation has moved to a stage where you act.",
    NoticeKind.APPROVAL_NEEDED: "An escalation from your agency needs your approval to move on.",
    NoticeKind.APPROVAL_NEEDED_NO_LEAD: "An escalation from your agency needs approval to move "
    "on, and your agency has no active safeguarding lead in the portal: you are asked to "
    "approve it, or return it with comments, in the absence of a safeguarding lead. If a "
    "safeguarding lead is added, the decision passes to them.",
    NoticeKind.APPROVED: "Your request to escalate was approved.",
    NoticeKind.RETURNED: "Your request to escalate was returned with comments.",
    NoticeKind.RESOLVED: "An escalation you are part of has been resolved.",
    NoticeKind.REOPENED: "An escalation you are part of has been reopened.",
    NoticeKind.WITHDRAWN: "An escalation you are part of has been withdrawn.",
    NoticeKind.PARTNERSHIP_STAGE: "An escalation has reached the stage at which the partnership "
    "is brought in.",
    NoticeKind.RESPONSE: "The other agency has recorded its response.",
    NoticeKind.REMINDER: "The time limit for the stage you hold runs out soon. Resolve it or "
    "escalate it before then.",
    NoticeKind.OVERDUE: "The time limit for the stage you hold has passed. Escalate it to the "
    "next stage now, or record the resolution.",
    NoticeKind.OVERDUE_MANAGER: "The time limit has passed for a stage held in your agency or "
    "partnership. Check that it is escalated or resolved.",
    NoticeKind.RECORD_READY: "The escalation record is ready.",
    NoticeKind.DEADLINE_CHANGED: "The partnership changed its working days, so the time limit "
    "of the stage you hold has moved.",
    NoticeKind.CONFERENCE_CONCERN: "A child protection conference chair has escalated a concern "
    "about your agency's part in a conference (attendance or a report). Read it and respond.",
    NoticeKind.CONFERENCE_CONCERN_NO_LEAD: "A child protection conference chair has escalated a "
    "concern about your agency's part in a conference (attendance or a report). It comes to you "
    "because your agency has no active safeguarding lead in the portal. Read it and respond, "
    "and ask for a safeguarding lead to be named.",
    NoticeKind.CONFERENCE_RESPONSE: "The agency has responded to the conference concern you "
    "recorded.",
    NoticeKind.REASSIGNED: "Someone who took part in this escalation has left, and their part "
    "has been passed to you. Read it and carry on from where it stands.",
}


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


# --- who may see a notice ----------------------------------------------------------------


def visible_notices(user) -> Q:
    """Notices about what the user may still see: an escalation (`Escalation.objects
    .visible_to`) or a conference concern (`ConferenceReport.objects.visible_to`). One
    condition, so a count of them stays one query."""
    return Q(escalation__in=Escalation.objects.visible_to(user)) | Q(
        conference_report__in=ConferenceReport.objects.visible_to(user)
    )


# --- the emails ---------------------------------------------------------------------------


def escalation_url(reference: str | None) -> str:
    base = settings.PORTAL_BASE_URL.rstrip("/")
    return f"{base}/escalations/{reference}/" if reference else f"{base}/notifications/"


def _message_id(name: str) -> str:
    # Stable per notice: a mail client that sees the rare resend (the relay killed between
    # the mail server's acceptance and the commit) can recognise it as the same message.
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "escalation-portal"
    return f"<{digest}@{domain}>"


def conference_url(pk: int) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/conference/{pk}/"


def notice_summary(notice: Notice) -> dict:
    """What an email or the notifications page shows of a notice: nothing about the child."""
    common = {
        "kind": notice.get_kind_display(),
        "guidance": GUIDANCE.get(notice.kind, ""),
        "urgent": notice.urgent,
        "created": moment_in_words(notice.created_at),
    }
    if notice.conference_report_id is not None:
        # Only the concern's number: its family identifier and details stay in the portal.
        return {
            **common,
            "about": "concern",
            "reference": f"Conference concern {notice.conference_report_id}",
            "stage": "",
            "due": "",
            "overdue": False,
            "url": conference_url(notice.conference_report_id),
        }
    esc = notice.escalation
    return {
        **common,
        "about": "escalation",
        "reference": esc.reference or "Draft",
        "stage": f"Stage {esc.stage.number}: {esc.stage.name}",
        "due": moment_in_words(esc.due_at) if esc.due_at else "",
        "overdue": esc.overdue,
        "url": escalation_url(esc.reference),
    }


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
                .select_related("escalation__stage", "recipient")
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
                .select_related("escalation__stage", "recipient")
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
    from escalation_portal.celery import app
    from escalations.tasks import relay_notices

    try:
        with app.connection_for_write() as conn:
            # Fail fast: a person raising a challenge must not wait on a broker that is down.
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            relay_notices.apply_async(kwargs={"urgent_only": True}, connection=conn, retry=False)
        return True
    except Exception as exc:
        logger.warning("Broker unreachable (%s): urgent notices go at the next relay run", exc)
        return False
