"""The notice outbox: what people are told, written with the change that causes it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models import Person


def deadline_notice_key(
    escalation_id: int, episode_id: int | None, kind: str, person_id: int, due
) -> str:
    """The outbox key of a deadline notice: one per recipient per due moment of an episode, so a
    moved deadline (a closure day, Berkshire's next step) is a new notice and a repeat is not."""
    occasion = int(due.timestamp()) if due else 0
    return f"{escalation_id}:{episode_id or 0}:{kind}:{person_id}:due{occasion}"


class NoticeKind(models.TextChoices):
    IMMEDIATE_RISK = "immediate_risk", "Immediate risk alert"
    RAISED = "raised", "Challenge raised with you"
    ESCALATED = "escalated", "Escalated to you"
    APPROVAL_NEEDED = "approval_needed", "Approval needed"
    APPROVAL_NEEDED_NO_LEAD = (
        "approval_needed_no_lead",
        "Approval needed (no safeguarding lead)",
    )
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned with comments"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    WITHDRAWN = "withdrawn", "Withdrawn"
    PARTNERSHIP_STAGE = "partnership_stage", "Reached the partnership stage"
    RESPONSE = "response", "Response recorded"
    REMINDER = "reminder", "Due soon"
    OVERDUE = "overdue", "Overdue"
    OVERDUE_MANAGER = "overdue_manager", "Overdue (for the manager)"
    RECORD_READY = "record_ready", "Escalation record ready"
    DEADLINE_CHANGED = "deadline_changed", "Deadline changed"
    # Kirklees Appendix 3: a conference chair's concern goes to the agency's safeguarding lead
    # (or, where it has none, its managers), and the lead's response goes back to the chair.
    CONFERENCE_CONCERN = "conference_concern", "Conference concern to respond to"
    CONFERENCE_CONCERN_NO_LEAD = (
        "conference_concern_no_lead",
        "Conference concern to respond to (no safeguarding lead)",
    )
    CONFERENCE_RESPONSE = "conference_response", "Response to your conference concern"
    REASSIGNED = "reassigned", "Passed to you"
    # Sent to the partnership where its policy says (ladder file: outcomes_from_stage,
    # learning_to_partnership, policy_gaps_to_partnership).
    OUTCOME_TO_PARTNERSHIP = "outcome_to_partnership", "Outcome sent to the partnership"
    LEARNING_TO_PARTNERSHIP = "learning_to_partnership", "Learning or a policy gap sent"
    CHILD_FILE_DUE = "child_file_due", "Record it on the child's file"
    CHILD_FILE_REMINDER = "child_file_reminder", "Reminder: record it on the child's file"
    # Only the roles the next stage names may move it there; someone else asks them.
    ESCALATION_ASKED = "escalation_asked", "Asked to escalate it"


# Learning and policy gaps a partnership's policy sends to the partnership itself (issue 15,
# point 8): the words reach its dashboard, and the notice links there, not to the escalation,
# which below the partnership's stages its business manager may not open (SPEC section 3).
# Outcomes are sent from the stages at which the partnership holds the record, so those
# notices link to the escalation like any other.
TO_PARTNERSHIP_KINDS = frozenset({NoticeKind.LEARNING_TO_PARTNERSHIP})


def _sees_partnership_figures(person: Person, partnership_id: int) -> bool:
    from escalations.models.choices import PARTNERSHIP_FIGURES_ROLES

    return person.user.is_active and any(
        m.partnership_id == partnership_id and m.role in PARTNERSHIP_FIGURES_ROLES
        for m in person.memberships.all()
    )


class NoticeQuerySet(models.QuerySet):
    def shown_to(self, person: Person) -> NoticeQuerySet:
        """The person's own notices about what they may still open: the notice rows only, no
        join to the escalation (ADR 0028). Who may open what is kept in hidden_at."""
        return self.filter(recipient=person, hidden_at__isnull=True)

    def write(
        self,
        escalation,
        kind: str,
        recipients: Iterable[Person | None],
        *,
        episode=None,
        occasion: str = "",
        urgent: bool = False,
    ) -> int:
        """Write outbox rows about an escalation in the caller's transaction, one per person;
        the unique key (escalation, episode, kind, person, occasion) makes a repeat a no-op.

        Only people who may open the escalation at this moment are told (Escalation.open_to):
        an email whose link answers "Page not found" tells a stranger that a child's case
        exists and leaves the people who should act untold (ADR 0022)."""
        if kind in TO_PARTNERSHIP_KINDS:
            # These link to the partnership's dashboard: told are those who may open it.
            def may_open(person):
                return _sees_partnership_figures(person, escalation.partnership_id)
        else:
            may_open = escalation.open_to
        people = {
            person.pk: person for person in recipients if person is not None and may_open(person)
        }
        rows = [
            Notice(
                escalation=escalation,
                episode=episode,
                kind=kind,
                recipient=person,
                urgent=urgent,
                key=f"{escalation.pk}:{episode.pk if episode else 0}:{kind}:{person.pk}:{occasion}",
            )
            for person in people.values()
        ]
        self.bulk_create(rows, ignore_conflicts=True)
        return len(rows)

    def write_about_concern(self, report, kind: str, recipients: Iterable[Person]) -> int:
        """Outbox rows about a conference concern, written in the caller's transaction; the
        unique key makes a repeat a no-op. Relayed like escalation notices."""
        people = {person.pk: person for person in recipients}
        rows = [
            Notice(
                conference_report=report,
                kind=kind,
                recipient=person,
                key=f"conference:{report.pk}:{kind}:{person.pk}",
            )
            for person in people.values()
        ]
        self.bulk_create(rows, ignore_conflicts=True)
        return len(rows)


class Notice(models.Model):
    """Transactional outbox: written with the change that causes it, relayed once.

    A notice is about an escalation or about a child protection conference concern (Kirklees
    Appendix 3), never both. The key (escalation, episode, kind, recipient; or conference
    concern, kind, recipient) is unique, so a sweep or relay that runs twice cannot create a
    second notice.

    Its escalation, episode and recipient are not foreign-key constraints in the database
    (ADR 0035): the first sweep at 1,000,000 escalations writes half a million notices, and
    checking three references of each at commit (locking every referenced row) was a third of
    its time. What they refer to is never deleted (escalations are withdrawn or closed, people
    leave, episodes are history), Django refuses to delete it while a notice names it
    (PROTECT), and every notice is written with ids read in the same transaction."""

    escalation = models.ForeignKey(
        "escalations.Escalation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
        db_constraint=False,
    )
    conference_report = models.ForeignKey(
        "escalations.ConferenceReport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
        db_index=False,  # notice_conference: a partial index, escalation notices are not in it
    )
    episode = models.ForeignKey(
        "escalations.StageEpisode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        # Never looked up by (notices are found by recipient, key or escalation) and episodes
        # are never deleted: an index would only be written, for every notice the sweep makes.
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=30, choices=NoticeKind.choices)
    # Indexed by notice_recipient_unread, which leads with it.
    recipient = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="notices",
        db_index=False,
        db_constraint=False,
    )
    key = models.CharField(max_length=200)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=300, blank=True)
    email_given_up = models.BooleanField(default=False)
    # After a failed attempt the relay waits until then before trying again.
    email_retry_at = models.DateTimeField(null=True, blank=True)
    # A relay that claimed the notice sends it until then with no transaction open; a relay
    # that died meanwhile leaves the claim to run out and the next run sends it.
    email_claimed_until = models.DateTimeField(null=True, blank=True)
    # GOV.UK Notify (NOTICE_CHANNEL=notify, ADR 0033): the id Notify gave each message it
    # accepted, recorded at once, so a retry after a failed text message does not send the
    # email again; and the last delivery receipt for each (escalations.notices.receipts).
    notify_email_id = models.CharField(max_length=36, blank=True)
    notify_text_id = models.CharField(max_length=36, blank=True)
    email_status = models.CharField(max_length=30, blank=True)
    text_status = models.CharField(max_length=30, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set when the recipient may no longer open what the notice is about (a role removed, an
    # agency left, no longer the holder); cleared if they may again. The header's count and
    # the notifications page read this column, not the escalation table (ADR 0028): kept by
    # escalations.notices.access whenever access changes. Never deleted: only hidden.
    hidden_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="notice_unsent",
                condition=Q(emailed_at__isnull=True, email_given_up=False),
            ),
            models.Index(fields=["recipient", "read_at"], name="notice_recipient_unread"),
            # The header's unread count on every page: one index-only count per person.
            models.Index(
                fields=["recipient"],
                name="notice_unread_shown",
                condition=Q(read_at__isnull=True, hidden_at__isnull=True),
            ),
            models.Index(
                fields=["conference_report"],
                name="notice_conference",
                condition=Q(conference_report__isnull=False),
            ),
        ]
        # A constraint rather than unique=True: the same guarantee without the second,
        # pattern-matching index PostgreSQL gets for a unique CharField.
        constraints = [
            models.UniqueConstraint(fields=["key"], name="notice_key_unique"),
            models.CheckConstraint(
                condition=Q(escalation__isnull=False, conference_report__isnull=True)
                | Q(escalation__isnull=True, conference_report__isnull=False),
                name="notice_about_one_thing",
            ),
        ]

    @property
    def partnership_id(self) -> int:
        return (self.escalation or self.conference_report).partnership_id
