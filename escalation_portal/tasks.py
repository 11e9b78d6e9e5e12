import logging

from celery import shared_task
from django.utils import timezone

from escalations.models import Pulse, PulseKind

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=20, time_limit=30, ignore_result=True)
def heartbeat() -> str:
    """Proves beat schedules and a worker runs: the moment is kept in the database, where
    /healthz reads its age (and can, with Redis down), and logged at info."""
    moment = timezone.now()
    logger.info("heartbeat: worker and beat alive at %s", moment.isoformat(timespec="seconds"))
    Pulse.objects.record(PulseKind.WORKER, at=moment)
    return moment.isoformat(timespec="seconds")
