"""What /healthz reports: whether the database and the broker answer now, and how long ago the
worker, beat and the mail server last proved they work (Pulse rows, kept in the database so
they can be read while Redis is down), the outbox backlog and the notices that gave up.

Unhealthy (503) when the database or the broker does not answer, when the worker has been
silent for more than two heartbeats, or when no deadline sweep has run for more than two of
its intervals: deadlines would then pass unnoticed. A failing mail server is reported but is
not a 503: the portal itself works, notices wait in the outbox and are retried, and the
backlog and the notices that gave up say how far behind it is."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from escalation_portal import broker
from escalation_portal.celery import app
from escalations.models import Notice, Pulse, PulseKind
from escalations.notices.notify import FAILED

logger = logging.getLogger(__name__)

# Waiting longer than this on the broker would keep /healthz past its 2 s budget.
BROKER_WAIT_SECONDS = 1.0


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("healthz: database did not answer", exc_info=True)
        return False


def broker_name() -> str:
    """'redis' when the broker is Redis, else 'broker' (the embedded filesystem queue)."""
    url = app.conf.broker_write_url or app.conf.broker_url or ""
    return "redis" if url.startswith(("redis", "rediss")) else "broker"


def _moment(pulse: Pulse | None) -> str | None:
    return pulse.at.isoformat(timespec="seconds") if pulse else None


def _age(pulse: Pulse | None, now: datetime) -> int | None:
    return round((now - pulse.at).total_seconds()) if pulse else None


def _lively(pulse: Pulse | None, now: datetime, interval: int, key: str) -> dict:
    """Alive when seen within two intervals (and a minute's grace for a busy queue)."""
    age = _age(pulse, now)
    limit = 2 * interval + 60
    return {
        "ok": age is not None and age <= limit,
        key: _moment(pulse),
        "age_seconds": age,
        "silent_after_seconds": limit,
    }


def report() -> tuple[bool, dict]:
    """(healthy, the JSON body)."""
    now = timezone.now()
    body: dict = {"database": {"ok": database_answers()}}
    body[broker_name()] = {"ok": broker.broker_answers(BROKER_WAIT_SECONDS)}
    unknown = {"ok": False, "error": "not known: the database did not answer"}
    try:
        body.update(_from_the_database(now) if body["database"]["ok"] else {})
    except Exception:  # tables missing, or the database went away between two questions
        logger.warning("healthz: could not read the moments", exc_info=True)
    body.setdefault("worker", unknown)
    body.setdefault("beat", unknown)
    down = [name for name in ("database", broker_name(), "worker", "beat") if not body[name]["ok"]]
    body = {"status": "down" if down else "ok", "down": down, **body}
    return not down, body


def _from_the_database(now: datetime) -> dict:
    pulses = Pulse.objects.moments()
    sent, failed = pulses.get(PulseKind.MAIL_SENT), pulses.get(PulseKind.MAIL_FAILED)
    # scoped-lookup: allowed (counts for the operator's health check: no record is shown)
    unsent = Notice.objects.filter(emailed_at__isnull=True, email_given_up=False).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    oldest = unsent["oldest"]
    # Not those held back because their reader lost access (ADR 0028): no delivery failed.
    # scoped-lookup: allowed (a count for the operator's health check: no record is shown)
    given_up = Notice.objects.filter(email_given_up=True, hidden_at__isnull=True).count()
    # scoped-lookup: allowed (a count for the operator's health check: no record is shown)
    not_delivered = Notice.objects.filter(
        Q(email_status__in=FAILED) | Q(text_status__in=FAILED), email_given_up=True
    ).count()
    return {
        "worker": _lively(
            pulses.get(PulseKind.WORKER), now, settings.HEARTBEAT_SECONDS, "last_heartbeat"
        ),
        "beat": _lively(
            pulses.get(PulseKind.SWEEP), now, settings.DEADLINE_SWEEP_SECONDS, "last_sweep"
        ),
        "mail": {
            "ok": not failed or bool(sent and sent.at > failed.at),
            "last_success": _moment(sent),
            "last_failure": _moment(failed),
            "last_error": failed.detail if failed else "",
        },
        "outbox": {
            "unsent": unsent["count"],
            "oldest_age_seconds": round((now - oldest).total_seconds()) if oldest else None,
        },
        "notices_given_up": given_up,
        # Of those, the ones GOV.UK Notify's receipts said it could not deliver.
        "notices_not_delivered": not_delivered,
    }
