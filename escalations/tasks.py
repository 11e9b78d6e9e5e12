"""Celery tasks: thin, ids and flags only in the messages, the work in deadlines and
escalations.notices.relay. All are idempotent (the database says what is done), so a message redelivered
after a worker died (acks_late with reject_on_worker_lost) or sent twice by two beats is safe."""

from celery import shared_task
from django.db import DatabaseError

from escalations import deadlines
from escalations.notices import relay

IDEMPOTENT = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError,),
    "max_retries": 3,
    "retry_backoff": 5,
    "retry_jitter": True,
    "ignore_result": True,
}


@shared_task(**IDEMPOTENT)
def sweep_deadlines() -> dict:
    return deadlines.sweep().as_dict()


@shared_task(**IDEMPOTENT)
def relay_notices(urgent_only: bool = False) -> dict:
    return relay.relay(urgent_only=urgent_only).as_dict()


@shared_task(**IDEMPOTENT)
def send_digests() -> dict:
    return relay.send_digests().as_dict()
