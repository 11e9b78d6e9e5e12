import logging

from celery import shared_task

from security import retention

logger = logging.getLogger(__name__)


@shared_task
def anonymise_after_retention() -> int:
    """Daily: anonymise the children whose escalations ended past the retention period."""
    done = retention.anonymise_due()
    logger.info("retention: anonymised %d children", done)
    return done
