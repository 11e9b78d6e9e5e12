"""Beat pushes the agencies' webhooks (api.webhooks) every PUSH_WEBHOOKS_SECONDS."""

from celery import shared_task
from django.db import DatabaseError

from api import webhooks


# Each event is bounded by WEBHOOK_TIMEOUT_SECONDS and a webhook stops at its first failure;
# the claim's lease outlasts the hard limit, so a stuck run's webhook is taken up later.
@shared_task(
    autoretry_for=(DatabaseError,),
    max_retries=3,
    retry_backoff=5,
    ignore_result=True,
    soft_time_limit=90,
    time_limit=120,
)
def push_webhooks() -> dict:
    return webhooks.push()
