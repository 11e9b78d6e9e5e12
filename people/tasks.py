"""Celery tasks: thin, the work in people.mail."""

from celery import shared_task

from escalations.tasks import IDEMPOTENT
from people import mail


@shared_task(**IDEMPOTENT)
def send_invitations() -> dict:
    return mail.send_due().as_dict()
