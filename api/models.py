"""Case-system tokens, and the case references agencies' systems give the escalations.

A token is stored only as its SHA-256 digest: the secret is shown once, when it is made, and
cannot be read back. A random 256-bit secret needs no slow password hash (nobody can guess it),
and a fast digest keeps every API request to one indexed lookup."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cases.models import Agency, Person


class CaseSystemTokenQuerySet(models.QuerySet):
    def active(self) -> CaseSystemTokenQuerySet:
        return self.filter(revoked_on__isnull=True)


class CaseSystemToken(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    # What the agency calls the system (e.g. "Mosaic, children's social care").
    name = models.CharField(max_length=100)
    # The secret's first characters, shown on the page so a lead can tell tokens apart.
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_on = models.DateTimeField(default=timezone.now)
    revoked_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_on = models.DateTimeField(null=True, blank=True)
    last_used_on = models.DateTimeField(null=True, blank=True)

    objects = CaseSystemTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_on"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_on is None


class CaseReference(models.Model):
    """An agency's own reference for the child's file, given to an escalation by its case
    system, so that the system can ask for every escalation about that child."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    escalation = models.ForeignKey(
        "escalations.Escalation", on_delete=models.PROTECT, related_name="case_references"
    )
    reference = models.CharField(max_length=100)
    recorded_by_token = models.ForeignKey(
        CaseSystemToken, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_on = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "escalation"], name="one_case_reference_per_agency"
            )
        ]
        indexes = [models.Index(fields=["agency", "reference"], name="case_ref_agency_ref")]

    def __str__(self) -> str:
        return self.reference


class Webhook(models.Model):
    """An agency's case system told of each event as it happens (docs/adr/0034): the portal
    POSTs each event, signed with HMAC-SHA256 under the secret, to the URL. The events table is
    the outbox (each event is written with the change it records); `cursor` is the last event
    the system accepted, moved only after a 2xx, so an event is never lost and, but for a
    process killed between the answer and the move, never sent twice (its id says so)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    url = models.URLField(max_length=300)
    # Kept as given: the portal must sign with it. Shown once, when it is made.
    secret = models.CharField(max_length=64)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_on = models.DateTimeField(default=timezone.now)
    stopped_on = models.DateTimeField(null=True, blank=True)
    cursor = models.BigIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_delivered_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency"],
                condition=models.Q(stopped_on__isnull=True),
                name="one_live_webhook_per_agency",
            )
        ]

    def __str__(self) -> str:
        return self.url
