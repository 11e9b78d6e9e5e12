"""What an escalation is made of besides its own row: natures, people added, stage episodes,
notes, written positions, responses, approvals, the outcome and its actions."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from cases import limits
from cases.models import Agency, Person
from escalations.models.choices import Nature, NoteKind, OutcomeCategory
from policies.models import Partnership, Role, Stage

ESCALATION = "escalations.Escalation"


class EscalationNature(models.Model):
    escalation = models.ForeignKey(ESCALATION, on_delete=models.PROTECT, related_name="natures")
    nature = models.CharField(max_length=30, choices=Nature.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["escalation", "nature"], name="one_row_per_nature")
        ]
        indexes = [models.Index(fields=["nature", "escalation"])]


class Participant(models.Model):
    """Someone added to an escalation, who then sees it (SPEC section 3)."""

    escalation = models.ForeignKey(
        ESCALATION, on_delete=models.PROTECT, related_name="participants"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="participations")
    added_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_on = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["escalation", "person"], name="one_participation")
        ]
        indexes = [models.Index(fields=["person", "escalation"])]


class StageEpisode(models.Model):
    """One stage as this escalation lived it: who acted on each side, when, what happened."""

    escalation = models.ForeignKey(ESCALATION, on_delete=models.PROTECT, related_name="episodes")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    raising_lead = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counterpart = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=30, blank=True)
    # Stored when the stage ends, so dashboards aggregate in the database.
    working_days_spent = models.PositiveIntegerField(null=True, blank=True)
    was_overdue = models.BooleanField(default=False)

    class Meta:
        ordering = ["escalation", "started_at", "id"]
        indexes = [models.Index(fields=["escalation", "ended_at"])]


class Note(models.Model):
    escalation = models.ForeignKey(ESCALATION, on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField(max_length=20, choices=NoteKind.choices, default=NoteKind.NOTE)
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, null=True, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=limits.ACCOUNT)
    happened_on = models.DateField(default=timezone.localdate)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["escalation", "created_at"]
        constraints = [limits.text_limit("body", limits.ACCOUNT, prefix="note")]


class Position(models.Model):
    """An agency's written position (Kirklees step 2: both agencies give reasons in writing)."""

    escalation = models.ForeignKey(ESCALATION, on_delete=models.PROTECT, related_name="positions")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=limits.ACCOUNT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["escalation", "created_at"]
        constraints = [limits.text_limit("body", limits.ACCOUNT, prefix="position")]


class Response(models.Model):
    """The challenged agency's response, as the record form asks for it."""

    escalation = models.ForeignKey(ESCALATION, on_delete=models.PROTECT, related_name="responses")
    responder = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    responder_name = models.CharField(max_length=200)
    responder_job_title = models.CharField(max_length=200)
    responder_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    responded_on = models.DateField()
    summary = models.TextField(max_length=limits.ACCOUNT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["escalation", "created_at"]
        constraints = [limits.text_limit("summary", limits.ACCOUNT, prefix="response")]


class Approval(models.Model):
    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned with comments"

    escalation = models.ForeignKey(ESCALATION, on_delete=models.PROTECT, related_name="approvals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    # The role in which decided_by decided: the gate's approver, or a stand-in in the
    # approver's absence (escalations.approvals); blank for decisions recorded before it was.
    decided_as = models.CharField(max_length=30, choices=Role.choices, blank=True)
    comments = models.TextField(blank=True, max_length=limits.REASON)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["escalation", "decided_at"]
        constraints = [limits.text_limit("comments", limits.REASON, prefix="approval")]


class Outcome(models.Model):
    """The agreed outcome in writing; a reopened escalation may gain a later one."""

    escalation = models.ForeignKey(ESCALATION, on_delete=models.PROTECT, related_name="outcomes")
    category = models.CharField(max_length=30, choices=OutcomeCategory.choices)
    summary = models.TextField(max_length=limits.ACCOUNT)
    raiser_satisfied = models.BooleanField(null=True, blank=True)
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    stage_number = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["escalation", "recorded_at"]
        indexes = [models.Index(fields=["category", "escalation"])]
        constraints = [limits.text_limit("summary", limits.ACCOUNT, prefix="outcome")]


class Action(models.Model):
    escalation = models.ForeignKey(ESCALATION, on_delete=models.PROTECT, related_name="actions")
    outcome = models.ForeignKey(
        Outcome, null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    what = models.TextField(max_length=limits.REASON)
    owner_name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)
    done_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["escalation", "due_on", "id"]
        constraints = [limits.text_limit("what", limits.REASON, prefix="action")]


class ReferenceSequence(models.Model):
    """The last reference number used per partnership and year; locked while numbering."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partnership", "year"], name="one_sequence_per_year")
        ]
