"""Frozen copies of the record: marked due inside the stage change, rendered by the sweep.

Rendering takes a third of a second and may fail; it never runs inside the transaction that
moves an escalation. Entering a record stage writes a DueRecord row in that transaction (so
it cannot be lost), and the freeze_due_records sweep renders, stores and announces the copy.
"""

from __future__ import annotations

import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from cases.people import partnership_members
from escalations.models import Escalation, Notice, NoticeKind
from escalations.record import engine
from escalations.record.due import request_record_copy
from escalations.record.models import DueRecord, RecordCopy
from escalations.record.render import render_record_pdf
from policies.models import Role

logger = logging.getLogger(__name__)

__all__ = [
    "freeze_due_records",
    "freeze_record",
    "read_copy",
    "record_copies_for",
    "request_record_copy",
]

# How many due records one sweep freezes; the rest wait for the next minute.
SWEEP_BATCH = 20
# After this many failures a due record is left for a person to look at (last_error says why).
MAX_ATTEMPTS = 5


class RecordCopyDamaged(Exception):
    """A stored copy no longer matches the SHA-256 taken when it was frozen."""


def freeze_due_records(*, limit: int = SWEEP_BATCH) -> int:
    """Freeze up to `limit` due records; safe to run twice at once or again after a crash."""
    due_ids = list(
        DueRecord.objects.pending()
        .filter(attempts__lt=MAX_ATTEMPTS)
        .order_by("due_since", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for due_id in due_ids if freeze_record(due_id) is not None)


def freeze_record(due_id: int) -> RecordCopy | None:
    """Render, store and announce one due record; None if another worker has it or it is done."""
    try:
        with transaction.atomic():
            # skip_locked: a second sweep passes over the row this one is rendering.
            due = (
                DueRecord.objects.select_for_update(skip_locked=True)
                .pending()
                .filter(pk=due_id)
                .select_related("escalation", "episode")
                .first()
            )
            if due is None:
                return None
            copy = _freeze(due)
    except (engine.RenderError, IntegrityError, OSError) as error:
        logger.warning("record: freezing due record %s failed: %s", due_id, error)
        DueRecord.objects.filter(pk=due_id, copy__isnull=True).update(
            attempts=F("attempts") + 1, last_error=str(error)[:300]
        )
        return None
    return copy


def _freeze(due: DueRecord) -> RecordCopy:
    escalation = due.escalation
    produced_at = timezone.now()
    pdf = render_record_pdf(escalation, produced_at=produced_at)
    version = (
        RecordCopy.objects.filter(escalation=escalation).aggregate(last=Max("version"))["last"] or 0
    ) + 1
    copy = RecordCopy(
        escalation=escalation,
        version=version,
        stage_number=due.stage_number,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        produced_at=produced_at,
    )
    copy.file.save(f"{escalation.reference}-record-v{version}.pdf", ContentFile(pdf), save=False)
    try:
        copy.save()
        due.copy = copy
        due.save(update_fields=["copy"])
        Notice.objects.write(
            escalation,
            NoticeKind.RECORD_READY,
            partnership_members(escalation.partnership, [Role.BUSINESS_MANAGER]),
            episode=due.episode,
            occasion=f"record-v{version}",
        )
    except BaseException:
        # Nothing will point at the file once the transaction rolls back: remove it.
        copy.file.storage.delete(copy.file.name)
        raise
    return copy


def record_copies_for(escalation: Escalation) -> list[RecordCopy]:
    """Frozen copies of an escalation the caller may see, oldest first, for its page."""
    copies = list(RecordCopy.objects.filter(escalation=escalation).order_by("version"))
    for copy in copies:
        copy.escalation = escalation  # each copy's link needs its reference: no query each
    return copies


def read_copy(copy: RecordCopy) -> bytes:
    """The stored bytes, checked against the SHA-256 taken when the copy was frozen."""
    with copy.file.open("rb") as stored:
        data = stored.read()
    if hashlib.sha256(data).hexdigest() != copy.sha256:
        raise RecordCopyDamaged(f"{copy} does not match its SHA-256; it has been altered.")
    return data
