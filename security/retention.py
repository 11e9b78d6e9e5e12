"""Retention: a child's identifiers are anonymised RETENTION_YEARS_AFTER_CLOSURE years after the
last escalation about them ended (closed or withdrawn). Escalations are never deleted.

What is cleared: the child's given names, family name, date of birth and address (the Child
row), leaving whether it was an unborn child or a family group and the home partnership, which
the partnership's figures need. What is kept: the escalation, its events, notes, positions,
responses, outcomes and actions. Their free text is the partnership's record of professional
practice and may name the child; it stays, readable only by those who could read it before,
and the change history never held the child's identifiers (audit/models.py).
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.log import record
from audit.models import AuditEntry
from cases.models import Child
from escalations.models import FINAL_STATES, Escalation, EventKind
from escalations.services import record_event


def retention_cutoff(now: datetime) -> datetime:
    years = settings.RETENTION_YEARS_AFTER_CLOSURE
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February in a year that has none
        return now.replace(year=now.year - years, day=28)


def children_due(now: datetime | None = None) -> QuerySet[Child]:
    """Children not yet anonymised whose every escalation ended before the cut-off."""
    cutoff = retention_cutoff(now or timezone.now())
    about = Escalation.objects.filter(child=OuterRef("pk"))
    not_ended = about.exclude(state__in=FINAL_STATES)
    ended_recently = about.annotate(ended=Coalesce("closed_on", "withdrawn_on")).filter(
        Q(ended__gt=cutoff) | Q(ended__isnull=True)
    )
    return Child.objects.filter(anonymised_on__isnull=True).filter(
        Exists(about), ~Exists(not_ended), ~Exists(ended_recently)
    )


def _history_context():
    if connection.vendor != "postgresql":
        return contextlib.nullcontext()
    import pghistory

    return pghistory.context(actor="retention")


def anonymise_child(child_id: int, *, now: datetime | None = None) -> int:
    """Clears one child's identifiers, with an event and a system audit entry per escalation.

    Returns how many escalations it touched; 0 if the child is no longer due."""
    now = now or timezone.now()
    years = settings.RETENTION_YEARS_AFTER_CLOSURE
    with transaction.atomic(), _history_context():
        child = Child.objects.select_for_update().filter(pk=child_id).first()
        # Checked again under the lock: a reopened escalation or a second run must not act.
        if child is None or not children_due(now).filter(pk=child_id).exists():
            return 0
        child.given_names = ""
        child.family_name = ""
        child.date_of_birth = None
        child.address = ""
        child.anonymised_on = now
        child.save(
            update_fields=[
                "given_names",
                "family_name",
                "date_of_birth",
                "address",
                "anonymised_on",
            ]
        )
        escalations = list(
            Escalation.objects.select_for_update().filter(child=child).select_related("stage")
        )
        for escalation in escalations:
            record_event(
                escalation,
                EventKind.ANONYMISED,
                None,
                reason=f"The child's identifiers were anonymised {years} years after closure.",
                at=now,
            )
            escalation.save(update_fields=["event_count"])
            record(
                None,
                kind=AuditEntry.Kind.SYSTEM,
                what="child identifiers anonymised after the retention period",
                escalation=escalation,
            )
        return len(escalations)


def anonymise_due(now: datetime | None = None) -> int:
    """The daily sweep: anonymises every child due; safe to run twice. Returns children done."""
    now = now or timezone.now()
    done = 0
    for child_id in children_due(now).values_list("pk", flat=True):
        if anonymise_child(child_id, now=now):
            done += 1
    return done
