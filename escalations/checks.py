"""System checks that fail loudly at start-up (manage.py check, runserver, migrate, the worker's
Django setup) rather than quietly in production."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


def queued_by_name() -> set[str]:
    """Every Celery task the portal queues by name: the urgent relay after a change, and the
    beat schedule."""
    from escalations.notices.relay import RELAY_TASK

    return {RELAY_TASK} | {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


_importing_tasks = False


@register("celery")
def tasks_queued_by_name_exist(app_configs=None, **kwargs) -> list[Error]:
    """A task queued by a name no task has is dropped by the worker ("unregistered task"): an
    urgent alert that never goes. Renaming a task without its callers fails here."""
    global _importing_tasks
    if _importing_tasks:
        # Celery's Django fixup runs every check while it imports the task modules.
        return []
    from escalation_portal.celery import app

    if queued_by_name() - set(app.tasks):
        # The task modules may not be imported yet (manage.py check): import them, as a
        # worker does when it starts, before deciding.
        _importing_tasks = True
        try:
            app.loader.import_default_modules()
        finally:
            _importing_tasks = False
    return [
        Error(
            f"Celery task {name!r} is queued by name, but no task is registered with it.",
            hint="Rename the caller (escalations.notices.relay.RELAY_TASK or "
            "CELERY_BEAT_SCHEDULE) to the task's name.",
            id="escalations.E001",
        )
        for name in sorted(queued_by_name() - set(app.tasks))
    ]


@register("celery")
def visibility_outlasts_every_task(app_configs=None, **kwargs) -> list[Error]:
    """Redis hands an unacknowledged message to another worker after the visibility timeout;
    a task still running then would run twice at once. Every task's hard time limit must be
    shorter (ADR 0017)."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if visibility is None:  # the embedded broker has none
        return []
    from escalation_portal.celery import app

    limits = [
        (task.time_limit or settings.CELERY_TASK_TIME_LIMIT, name)
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    ] + [(settings.CELERY_TASK_TIME_LIMIT, "CELERY_TASK_TIME_LIMIT")]
    longest, name = max(limits)
    if visibility > longest:
        return []
    return [
        Error(
            f"CELERY_VISIBILITY_TIMEOUT ({visibility} s) is not longer than the hard time limit"
            f" of {name} ({longest} s): Redis would hand it to a second worker while it runs.",
            hint="Raise CELERY_VISIBILITY_TIMEOUT or lower the time limit.",
            id="escalations.E002",
        )
    ]


@register()
def govuk_notify_is_configured(app_configs=None, **kwargs) -> list[Error]:
    """NOTICE_CHANNEL=notify without its key or a template would leave notices of that kind
    failing one by one in production; the portal refuses to start instead, naming what to set."""
    from escalations.notices import notify

    if not notify.in_use():
        return []
    return [
        Error(
            f"NOTICE_CHANNEL is 'notify' but {name} is not set.",
            hint="Set it (docs/integrations.md, GOV.UK Notify), or NOTICE_CHANNEL=email.",
            id="escalations.E003",
        )
        for name in notify.missing_settings()
    ]
