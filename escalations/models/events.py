"""The escalation's history: append-only events, one per change, with who, when and why."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from cases.models import Agency, Person
from cases.people import agency_of


class EventKind(models.TextChoices):
    DRAFTED = "drafted", "Draft started"
    RAISED = "raised", "Raised"
    ESCALATED = "escalated", "Escalated"
    APPROVAL_REQUESTED = "approval_requested", "Approval requested"
    # Someone asked the people the next stage names to move it there (issue 15, point 5).
    ESCALATION_ASKED = "escalation_asked", "Asked to escalate"
    APPROVED = "approved", "Approved"
    CHILD_FILE = "child_file", "Recorded on the child's file"
    RETURNED = "returned", "Returned with comments"
    STEP_ADVANCED = "step_advanced", "Moved to the next step"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    NOTE = "note", "Note added"
    POSITION = "position", "Written position recorded"
    RESPONSE = "response", "Response recorded"
    ACTION_DONE = "action_done", "Action done"
    PARENTS = "parents", "Parents and carers decision recorded"
    LEARNING = "learning", "Learning recorded"
    DEBRIEF = "debrief", "Debrief recorded"
    SHARED = "shared", "Shared with the partnership"
    OVERDUE = "overdue", "Overdue"
    DEADLINE_RECALCULATED = "deadline_recalculated", "Deadline recalculated"
    PARTICIPANT_ADDED = "participant_added", "Person added"
    ANONYMISED = "anonymised", "Child's identifiers anonymised"
    # A leaver's part passed to a colleague in the same agency and role (people.leavers).
    REASSIGNED = "reassigned", "Passed to someone else"


# Kinds that move the state or the stage.
TRANSITION_KINDS = frozenset(
    {
        EventKind.RAISED,
        EventKind.ESCALATED,
        EventKind.APPROVAL_REQUESTED,
        EventKind.APPROVED,
        EventKind.RETURNED,
        EventKind.STEP_ADVANCED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
        EventKind.CLOSED,
        EventKind.WITHDRAWN,
    }
)


class AppendOnlyError(Exception):
    pass


class EventQuerySet(models.QuerySet):
    def append(
        self,
        escalation,
        kind: str,
        by: Person | None,
        *,
        from_state: str = "",
        from_stage: int | None = None,
        reason: str = "",
        at: datetime | None = None,
    ) -> Event:
        """Append one event to the escalation's history, numbered after the last; the caller
        holds the escalation's row lock and saves the escalation (its event_count) after."""
        escalation.event_count += 1
        agency = (
            agency_of(by, escalation.raising_agency, escalation.receiving_agency) if by else None
        )
        return self.create(
            escalation=escalation,
            sequence=escalation.event_count,
            kind=kind,
            actor=by,
            actor_agency=agency,
            from_state=from_state or escalation.state,
            to_state=escalation.state,
            from_stage=from_stage if from_stage is not None else escalation.stage.number,
            to_stage=escalation.stage.number,
            reason=reason,
            occurred_at=at or timezone.now(),
        )


class Event(models.Model):
    """Append-only: never edited, never deleted (a database trigger refuses it on PostgreSQL)."""

    escalation = models.ForeignKey(
        "escalations.Escalation", on_delete=models.PROTECT, related_name="events"
    )
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    from_stage = models.PositiveSmallIntegerField(null=True, blank=True)
    to_stage = models.PositiveSmallIntegerField(null=True, blank=True)
    # Bounded by what it is made of: every part a person types has a maximum (cases.limits).
    # No check constraint of its own: on SQLite adding one rebuilds the table without the
    # append-only triggers of migration 0002.
    reason = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["escalation", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["escalation", "sequence"], name="event_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.occurred_at:%d %b %Y %H:%M})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Escalation events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Escalation events cannot be deleted.")
