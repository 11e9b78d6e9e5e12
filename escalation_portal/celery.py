"""The Celery app: configuration from Django settings (CELERY_*), tasks autodiscovered.

redis:// and rediss:// URLs use kombu's Redis transport with the fix of
escalation_portal/redis_transport.py (a connection lost mid-task no longer stops the worker),
and filesystem:// (the embedded default) kombu's filesystem transport with that of
escalation_portal/filesystem_transport.py (no half-written message is ever read), in every
process: worker, beat and the web's publisher."""

import os

from celery import Celery
from celery.signals import beat_init
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "escalation_portal.settings")

for scheme in ("redis", "rediss"):
    TRANSPORT_ALIASES[scheme] = "escalation_portal.redis_transport:Transport"
TRANSPORT_ALIASES["filesystem"] = "escalation_portal.filesystem_transport:Transport"

app = Celery("escalation_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["escalation_portal"])


@beat_init.connect
def sweep_as_beat_starts(sender=None, **kwargs) -> None:
    """Beat's first deadline sweep is asked for as it starts, not one interval later (Celery
    runs a new schedule entry only when its interval has passed): deadlines that passed while
    beat was down are caught up at once, and /healthz does not report a beat that has just
    started as down because it has not swept yet."""
    from django.conf import settings

    app.send_task(
        "escalations.tasks.sweep_deadlines", expires=float(settings.DEADLINE_SWEEP_SECONDS)
    )
