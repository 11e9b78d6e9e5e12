"""Celery tasks: thin, ids and flags only in the messages, the work in deadlines and
escalations.notices.relay. All are idempotent (the database says what is done), so a message
redelivered (after the visibility timeout) or sent twice by two beats is safe. Messages are
acknowledged when the task starts (ADR 0017): beat asks again within a minute, and a notice
whose sender died is sent once its claim lease runs out."""

from celery import shared_task
from django.db import DatabaseError

from escalations import deadlines
from escalations.dashboards import materialise
from escalations.models import Pulse, PulseKind
from escalations.notices import relay

IDEMPOTENT = {
    "autoretry_for": (DatabaseError,),
    "max_retries": 3,
    "retry_backoff": 5,
    "retry_jitter": True,
    "ignore_result": True,
}


# The relay sends one email at a time, each bounded by EMAIL_TIMEOUT, and stops at the first
# failure of the mail server: a run past 90 s is stuck, and the next run (a minute later)
# takes over what it had not claimed.
MAILING = {**IDEMPOTENT, "soft_time_limit": 90, "time_limit": 120}


@shared_task(**IDEMPOTENT)
def sweep_deadlines() -> dict:
    result = deadlines.sweep().as_dict()
    # For /healthz: beat scheduled a sweep and a worker ran it, this long ago.
    Pulse.objects.record(PulseKind.SWEEP, str(result))
    return result


@shared_task(**MAILING)
def relay_notices(urgent_only: bool = False) -> dict:
    return relay.relay(urgent_only=urgent_only).as_dict()


@shared_task(**MAILING)
def send_digests() -> dict:
    return relay.send_digests().as_dict()


@shared_task(**IDEMPOTENT)
def refresh_dashboard_figures() -> dict:
    """The dashboards' materialised figures, as at now (ADR 0031)."""
    return materialise.refresh_all()
