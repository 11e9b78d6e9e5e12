import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task
def heartbeat() -> str:
    """Proves beat schedules and a worker runs: one log line a minute."""
    moment = timezone.now().isoformat(timespec="seconds")
    logger.info("heartbeat: worker and beat alive at %s", moment)
    return moment
