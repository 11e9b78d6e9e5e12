"""Moments the parts of the portal last proved they work (the worker's heartbeat, beat's last
deadline sweep, the last email the mail server took and the last it refused), for /healthz.

Kept in the database, not Redis: when Redis is down, /healthz must still say how long ago the
worker and beat were last seen, and that is exactly when Redis cannot be asked."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class PulseKind(models.TextChoices):
    WORKER = "worker", "Worker heartbeat"
    SWEEP = "sweep", "Deadline sweep"
    MAIL_SENT = "mail_sent", "Mail server accepted an email"
    MAIL_FAILED = "mail_failed", "Mail server failed"


class PulseQuerySet(models.QuerySet):
    def record(self, kind: str, detail: str = "", at=None) -> None:
        """One row per kind, overwritten: an upsert in a single statement, outside any
        transaction of the caller's choosing."""
        self.update_or_create(
            kind=kind, defaults={"at": at or timezone.now(), "detail": detail[:300]}
        )

    def moments(self) -> dict[str, Pulse]:
        return {pulse.kind: pulse for pulse in self.all()}


class Pulse(models.Model):
    kind = models.CharField(max_length=20, choices=PulseKind.choices, primary_key=True)
    at = models.DateTimeField()
    detail = models.CharField(max_length=300, blank=True)

    objects = PulseQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M:%S}"
