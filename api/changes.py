"""The events after a cursor that an agency may see, for the changes endpoint (polled) and the
webhooks (pushed): one home for "settled", so neither ever passes over an event."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from escalations.models import Event


def settled_events(visible, after: int, limit: int) -> tuple[list[Event], bool]:
    """(events of the escalations in `visible` after the cursor, oldest first, at most limit;
    whether more wait). An event is given once API_CHANGES_SETTLE_SECONDS old, and nothing at
    or after the first event still settling, of any escalation: a longer transaction's event
    that appears later cannot fall behind the cursor."""
    settled = timezone.now() - timedelta(seconds=settings.API_CHANGES_SETTLE_SECONDS)
    events = (
        # scoped-lookup: allowed (the events of the escalations visible_to returned)
        Event.objects.filter(escalation__in=visible, pk__gt=after)
        .select_related("escalation", "actor", "actor_agency")
        .order_by("pk")
    )
    page = list(events[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    if page:
        unsettled = (
            # scoped-lookup: allowed (an id only, no row: the first event not yet settled)
            Event.objects.filter(
                pk__gt=after, pk__lte=page[-1].pk, occurred_at__gt=settled
            ).aggregate(first=Min("pk"))["first"]
        )
        if unsettled is not None:
            page = [event for event in page if event.pk < unsettled]
            more = False
    return page, more
