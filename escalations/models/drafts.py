"""A challenge being written, page by page: its answers kept until it is raised."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cases.models import Person


class DraftChallengeQuerySet(models.QuerySet):
    def owned_by(self, person: Person) -> DraftChallengeQuerySet:
        return self.filter(owner=person)

    def unfinished(self) -> DraftChallengeQuerySet:
        return self.filter(escalation__isnull=True)


class DraftChallenge(models.Model):
    """Only its owner ever sees it. `escalation` is set, under a row lock, when it is raised:
    a second submit of the same draft finds it set and shows the confirmation instead."""

    owner = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="draft_challenges")
    answers = models.JSONField(default=dict, blank=True)
    escalation = models.OneToOneField(
        "escalations.Escalation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="draft_challenge",
    )
    created_on = models.DateTimeField(default=timezone.now)
    updated_on = models.DateTimeField(default=timezone.now)

    objects = DraftChallengeQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_on"]
        indexes = [models.Index(fields=["owner", "escalation"], name="draft_owner_open")]

    def __str__(self) -> str:
        return f"Draft challenge {self.pk}"

    @property
    def title(self) -> str:
        names = " ".join(
            part
            for part in (self.answers.get("given_names"), self.answers.get("family_name"))
            if part
        )
        return f"Challenge about {names}" if names else "New challenge (no child given yet)"
