"""A task that only takes time, for tests that cut the broker while a task runs (loaded into a
test worker with `-I tests.support.slow_tasks`; no product code imports it)."""

import time

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def nap(seconds: float, mark: str) -> None:
    """Late-acknowledged on purpose: the hardest case, acknowledging after Redis came back."""
    time.sleep(seconds)
    print(f"nap done: {mark}", flush=True)
