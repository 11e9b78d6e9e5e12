"""Frozen copies of the record, and the marks that say one is due."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cases.models import Person
from escalations.models import Escalation, StageEpisode


class RecordCopyChangeError(Exception):
    pass


def copy_path(copy: RecordCopy, filename: str) -> str:
    # The reference and version name the file; the media folder is never served directly.
    return f"records/{copy.escalation.reference}/{filename}"


class RecordCopy(models.Model):
    """One frozen copy of the record: never changed, never deleted; a later one is a new version."""

    escalation = models.ForeignKey(
        Escalation, on_delete=models.PROTECT, related_name="record_copies"
    )
    version = models.PositiveIntegerField()
    stage_number = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to=copy_path, max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    produced_at = models.DateTimeField(default=timezone.now)
    produced_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["escalation", "version"]
        constraints = [
            models.UniqueConstraint(fields=["escalation", "version"], name="one_copy_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.escalation.reference} record v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RecordCopyChangeError("A frozen record copy cannot be changed.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "record:copy",
            kwargs={"reference": self.escalation.reference, "version": self.version},
        )

    def delete(self, *args, **kwargs):
        raise RecordCopyChangeError("A frozen record copy cannot be deleted.")


class DueRecordQuerySet(models.QuerySet):
    def pending(self) -> DueRecordQuerySet:
        return self.filter(copy__isnull=True)


class DueRecord(models.Model):
    """Written in the transaction that enters a record stage; the freeze sweep renders the copy
    later, outside that transaction, and links it here. One per stage episode."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="+")
    episode = models.OneToOneField(StageEpisode, on_delete=models.PROTECT, related_name="+")
    stage_number = models.PositiveSmallIntegerField()
    due_since = models.DateTimeField(default=timezone.now)
    copy = models.OneToOneField(
        RecordCopy, null=True, blank=True, on_delete=models.PROTECT, related_name="due"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    objects = DueRecordQuerySet.as_manager()

    class Meta:
        ordering = ["due_since", "id"]
        indexes = [
            models.Index(
                fields=["due_since"], name="record_due_pending", condition=Q(copy__isnull=True)
            )
        ]
