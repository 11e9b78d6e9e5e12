"""Thin tasks: they take ids (or nothing), and call a service."""

from celery import shared_task

from escalations.record import services


@shared_task(soft_time_limit=300, time_limit=330)
def freeze_due_records() -> int:
    """Beat runs this every minute (RECORD_FREEZE_SECONDS): freeze the records that are due."""
    return services.freeze_due_records()
