"""Marking a record due: light on imports, because escalations.services calls it inside every
stage change (it must not pull WeasyPrint into every process that moves an escalation)."""

from __future__ import annotations

from escalations.models import Escalation, StageEpisode
from escalations.record.models import DueRecord


def request_record_copy(escalation: Escalation, episode: StageEpisode) -> DueRecord:
    """Mark the record due for this stage episode; called inside the stage change."""
    due, _ = DueRecord.objects.get_or_create(
        episode=episode,
        defaults={"escalation": escalation, "stage_number": episode.number},
    )
    return due
