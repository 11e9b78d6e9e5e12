"""The escalation, its state machine and its record. Changes go through escalations.services."""

from __future__ import annotations

from django.db import models
from django.db.models import Aggregate, CharField, Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django_fsm import FSMField, transition

from cases.models import Agency, Child, Membership, Person
from policies.models import (
    AGENCY_OVERSIGHT_ROLES,
    PARTNERSHIP_ROLES,
    Ladder,
    Partnership,
    Role,
    Stage,
)


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Groups of states, named once.
LIVE_STATES = (State.OPEN, State.AWAITING_APPROVAL)  # the clock runs
ACTIVE_STATES = (State.OPEN, State.AWAITING_APPROVAL, State.RESOLVED)
FINAL_STATES = (State.CLOSED, State.WITHDRAWN)
WITHDRAWABLE_STATES = (State.DRAFT, State.OPEN, State.AWAITING_APPROVAL)


class Pathway(models.TextChoices):
    REFERRAL = "referral", "At point of referral"
    CHILD_PROTECTION = "child_protection", "Ongoing case: child protection"
    CHILD_IN_NEED = "child_in_need", "Ongoing case: child in need"
    CHILD_LOOKED_AFTER = "child_looked_after", "Ongoing case: child looked after"
    EARLY_SUPPORT = "early_support", "Ongoing case: early support"
    CONFERENCE = "conference", "Child protection conference"
    OTHER = "other", "Other"


class Nature(models.TextChoices):
    """SPEC section 4; the first seven are the Kirklees record form's boxes."""

    REFERRAL_DECISION = "referral_decision", "Referral decision"
    ASSESSMENT = "assessment", "Need for, or outcome of, an assessment"
    PLAN_IMPLEMENTATION = (
        "plan_implementation",
        "Implementation of the child's plan (agreed actions not followed through)",
    )
    PLAN_EFFECTIVENESS = "plan_effectiveness", "Effectiveness of the child's plan (drift or delay)"
    INFORMATION_SHARING = "information_sharing", "Information sharing"
    CONFERENCE_DECISION = "conference_decision", "Child protection case conference decision"
    ROLES = "roles", "Roles and responsibilities"
    SERVICES = "services", "Provision of services"
    OTHER = "other", "Other"


class OutcomeCategory(models.TextChoices):
    UPHELD = "upheld", "Upheld"
    PARTLY_UPHELD = "partly_upheld", "Partly upheld"
    NOT_UPHELD = "not_upheld", "Not upheld"
    INFORMATION_SHARED = "information_shared", "Resolved by sharing information"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Partnership roles that see the partnership's aggregate figures (dashboards, reports). SPEC
# section 3: "Partnership roles see aggregate figures for all escalations of their partnership":
# all of them, the administrator included (who already sees the full record once the partnership
# is brought in, through visible_to).
PARTNERSHIP_FIGURES_ROLES = PARTNERSHIP_ROLES


def awaiting_approval_of(person: Person) -> Q:
    """Waiting for this person's approval: they are a safeguarding lead of the raising agency,
    or, while it has no active lead, one of its senior managers, or one of its line managers
    where it has no active senior manager besides whoever asked; never whoever asked
    (policies.models.APPROVAL_FALLBACK_ROLES). The rule of
    permissions.approves_in_leads_absence as a condition, for a filter or a filtered count."""
    leads, seniors, line_managers = set(), set(), set()
    for m in person.memberships.all():
        if m.agency_id and m.role == Role.SAFEGUARDING_LEAD:
            leads.add(m.agency_id)
        elif m.agency_id and m.role == Role.SENIOR_MANAGER:
            seniors.add(m.agency_id)
        elif m.agency_id and m.role == Role.LINE_MANAGER:
            line_managers.add(m.agency_id)
    seniors -= leads
    line_managers -= leads | seniors
    mine = Q(raising_agency__in=leads)
    if seniors or line_managers:
        active = Membership.objects.filter(
            agency=OuterRef("raising_agency"), person__user__is_active=True
        )
        stand_in = ~Exists(active.filter(role=Role.SAFEGUARDING_LEAD)) & ~Q(
            approval_requested_by=person
        )
        mine |= Q(raising_agency__in=seniors) & stand_in
        other_seniors = active.filter(role=Role.SENIOR_MANAGER).exclude(
            person=OuterRef("approval_requested_by")
        )
        mine |= Q(raising_agency__in=line_managers) & stand_in & ~Exists(other_seniors)
    return Q(state=State.AWAITING_APPROVAL) & mine


class EscalationQuerySet(models.QuerySet):
    def visible_to(self, user) -> EscalationQuerySet:
        """SPEC section 3, the one entry point for every view, export and report."""
        from cases.people import person_for  # the person, memberships loaded once a request

        person = person_for(user)
        if person is None:
            return self.none()
        memberships = list(person.memberships.all())
        involved = (
            Q(raised_by=person)
            | Q(holder=person)
            | Q(receiving_person=person)
            | Exists(Participant.objects.filter(escalation=OuterRef("pk"), person=person))
        )
        visible = involved & ~Q(state=State.DRAFT)
        oversight_agencies = {
            m.agency_id for m in memberships if m.agency_id and m.role in AGENCY_OVERSIGHT_ROLES
        }
        if oversight_agencies:
            visible |= ~Q(state=State.DRAFT) & (
                Q(raising_agency__in=oversight_agencies)
                | Q(receiving_agency__in=oversight_agencies)
            )
        partnerships = {
            m.partnership_id
            for m in memberships
            if m.partnership_id and m.role in PARTNERSHIP_ROLES
        }
        if partnerships:
            visible |= Q(partnership__in=partnerships, partnership_sees_record=True) & ~Q(
                state=State.DRAFT
            )
        # A person's own drafts are theirs alone.
        visible |= Q(state=State.DRAFT, raised_by=person)
        return self.filter(visible)

    def for_partnership_figures(self, user, partnership: Partnership) -> EscalationQuerySet:
        """SPEC section 3: a partnership's roles (business manager, chair, administrator) see
        aggregate figures for every escalation of their partnership (never another's); rows that identify a child
        still come only from visible_to(user)."""
        from cases.people import person_for  # the person, memberships loaded once a request

        person = person_for(user)
        if person is None:
            return self.none()
        if not any(
            m.partnership_id == partnership.pk and m.role in PARTNERSHIP_FIGURES_ROLES
            for m in person.memberships.all()
        ):
            return self.none()
        return self.filter(partnership=partnership).exclude(state=State.DRAFT)

    def in_partnership(self, partnership: Partnership) -> EscalationQuerySet:
        return self.filter(partnership=partnership)

    def live(self) -> EscalationQuerySet:
        return self.filter(state__in=LIVE_STATES)

    def overdue(self) -> EscalationQuerySet:
        return self.live().filter(overdue=True)

    def held_by(self, person: Person) -> EscalationQuerySet:
        return self.filter(holder=person, state__in=LIVE_STATES)

    def awaiting_approval_of(self, person: Person) -> EscalationQuerySet:
        return self.filter(awaiting_approval_of(person))

    def with_approvers_present(self) -> EscalationQuerySet:
        """Annotates whether the raising agency has an active safeguarding lead, and an active
        senior manager besides whoever asked for approval, in the same query: what
        permissions.approves_in_leads_absence would otherwise read with a query of its own."""
        active = Membership.objects.filter(
            agency=OuterRef("raising_agency"), person__user__is_active=True
        )
        return self.annotate(
            raising_lead_present=Exists(active.filter(role=Role.SAFEGUARDING_LEAD)),
            raising_other_senior_present=Exists(
                active.filter(role=Role.SENIOR_MANAGER).exclude(
                    person=OuterRef("approval_requested_by")
                )
            ),
        )

    def at_partnership_stage(self) -> EscalationQuerySet:
        return self.filter(stage__brings_in_partnership=True)

    def with_nature_list(self) -> EscalationQuerySet:
        """Annotates nature_list, the escalation's natures as "a,b,c", in the same query."""
        natures = (
            EscalationNature.objects.filter(escalation=OuterRef("pk"))
            .values("escalation")
            .annotate(names=NatureList("nature"))
            .values("names")
        )
        return self.annotate(nature_list=Subquery(natures, output_field=CharField()))

    def with_summary(self) -> EscalationQuerySet:
        return self.select_related(
            "partnership",
            "child",
            "stage",
            "raising_agency",
            "receiving_agency",
            "raised_by",
            "holder",
        )


class NatureList(Aggregate):
    """The natures of one escalation as "a,b,c": STRING_AGG on PostgreSQL, GROUP_CONCAT on
    SQLite. Saves a prefetch query on every page that shows natures."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


class Escalation(models.Model):
    reference = models.CharField(max_length=20, unique=True, null=True, blank=True)
    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="escalations"
    )
    ladder = models.ForeignKey(Ladder, on_delete=models.PROTECT, related_name="escalations")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="escalations")
    raising_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="raised_escalations"
    )
    raised_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="raised_escalations"
    )
    receiving_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="received_escalations"
    )
    receiving_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="received_escalations"
    )
    receiving_team = models.CharField(max_length=200, blank=True)
    pathway = models.CharField(max_length=30, choices=Pathway.choices)
    nature_other = models.CharField(max_length=300, blank=True)
    details = models.TextField()
    outcome_sought = models.TextField()
    immediate_risk = models.BooleanField(default=False)
    interim_safety = models.TextField()
    initial_discussion_on = models.DateField()

    state = FSMField(default=State.DRAFT, choices=State.choices, protected=True)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    # Index into the stage's timed steps (Berkshire stage 1 has two).
    step = models.PositiveSmallIntegerField(default=0)
    pending_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    highest_stage_number = models.PositiveSmallIntegerField(default=1)
    holder = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="held_escalations"
    )
    stage_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    reminder_at = models.DateTimeField(null=True, blank=True)
    overdue = models.BooleanField(default=False)
    # The holder was reminded of the current due moment (reset whenever the clock is set).
    reminded = models.BooleanField(default=False)
    partnership_sees_record = models.BooleanField(default=False)
    # Bumped by every change; a form posts the revision it showed, so a stale one is refused.
    revision = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    approval_requested_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    raised_on = models.DateTimeField(null=True, blank=True)
    resolved_on = models.DateTimeField(null=True, blank=True)
    closed_on = models.DateTimeField(null=True, blank=True)
    withdrawn_on = models.DateTimeField(null=True, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    updated_on = models.DateTimeField(default=timezone.now)

    # After resolution (SPEC section 4): parents and carers, learning, policy gaps, debrief.
    parents_informed = models.BooleanField(null=True, blank=True)
    parents_not_informed_reason = models.TextField(blank=True)
    learning = models.TextField(blank=True)
    policy_gap = models.TextField(blank=True)
    debrief_summary = models.TextField(blank=True)
    debrief_on = models.DateField(null=True, blank=True)
    debrief_declined_reason = models.TextField(blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_on"]
        indexes = [
            models.Index(fields=["partnership", "state", "stage"], name="esc_partnership_state"),
            models.Index(fields=["state", "due_at"], name="esc_state_due"),
            models.Index(fields=["state", "reminder_at"], name="esc_state_reminder"),
            models.Index(fields=["holder", "state"], name="esc_holder_state"),
            models.Index(fields=["raising_agency", "state"], name="esc_raising_state"),
            models.Index(fields=["receiving_agency", "state"], name="esc_receiving_state"),
            models.Index(fields=["raised_by", "state"], name="esc_raised_by_state"),
            models.Index(fields=["partnership", "raised_on"], name="esc_partnership_raised"),
            # The dashboard's latest learning and policy gaps: without it the newest rows
            # (open, no learning yet) are read and skipped first.
            models.Index(
                fields=["partnership", "raised_on"],
                name="esc_partnership_learning",
                condition=~Q(learning="", policy_gap=""),
            ),
            # The deadline sweep reads esc_state_due and esc_state_reminder. No index names
            # overdue, reminded or event_count, the columns the sweep writes: PostgreSQL can
            # then update those rows in place (HOT, helped by the table's fillfactor, set in
            # migration 0008) without touching any of these indexes.
        ]

    def __str__(self) -> str:
        return self.reference or f"Draft {self.pk}"

    def nature_labels(self) -> list[str]:
        """The natures in the form's order, from with_nature_list() where the query had it."""
        if hasattr(self, "nature_list"):
            chosen = set((self.nature_list or "").split(","))
        else:
            chosen = {n.nature for n in self.natures.all()}
        return [label for value, label in Nature.choices if value in chosen]

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # A protected FSMField refuses assignment once set; reloading is not a transition.
        if fields is None or "state" in fields:
            self.__dict__.pop("state", None)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)

    # Transitions change the state only; services record, notify and move the stage.
    @transition(field=state, source=State.DRAFT, target=State.OPEN)
    def submit(self) -> None:
        pass

    @transition(field=state, source=State.OPEN, target=State.OPEN)
    def escalate(self) -> None:
        pass

    @transition(field=state, source=State.OPEN, target=State.AWAITING_APPROVAL)
    def request_approval(self) -> None:
        pass

    @transition(field=state, source=State.AWAITING_APPROVAL, target=State.OPEN)
    def approve(self) -> None:
        pass

    @transition(field=state, source=State.AWAITING_APPROVAL, target=State.OPEN)
    def return_with_comments(self) -> None:
        pass

    @transition(field=state, source=State.OPEN, target=State.OPEN)
    def advance_step(self) -> None:
        pass

    @transition(field=state, source=State.OPEN, target=State.RESOLVED)
    def resolve(self) -> None:
        pass

    @transition(field=state, source=State.RESOLVED, target=State.OPEN)
    def reopen(self) -> None:
        pass

    @transition(field=state, source=State.RESOLVED, target=State.CLOSED)
    def close(self) -> None:
        pass

    @transition(field=state, source=list(WITHDRAWABLE_STATES), target=State.WITHDRAWN)
    def withdraw(self) -> None:
        pass

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    def outstanding_actions(self) -> models.QuerySet:
        return self.actions.filter(done_on__isnull=True)


class EscalationNature(models.Model):
    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="natures")
    nature = models.CharField(max_length=30, choices=Nature.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["escalation", "nature"], name="one_row_per_nature")
        ]
        indexes = [models.Index(fields=["nature", "escalation"])]


class Participant(models.Model):
    """Someone added to an escalation, who then sees it (SPEC section 3)."""

    escalation = models.ForeignKey(
        Escalation, on_delete=models.PROTECT, related_name="participants"
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

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="episodes")
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


class EventKind(models.TextChoices):
    DRAFTED = "drafted", "Draft started"
    RAISED = "raised", "Raised"
    ESCALATED = "escalated", "Escalated"
    APPROVAL_REQUESTED = "approval_requested", "Approval requested"
    APPROVED = "approved", "Approved"
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


class Event(models.Model):
    """Append-only: never edited, never deleted (a database trigger refuses it on PostgreSQL)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="events")
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
    reason = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

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


class NoteKind(models.TextChoices):
    NOTE = "note", "Note"
    DISCUSSION = "discussion", "Discussion"
    MEETING = "meeting", "Meeting"
    WAITING = "waiting", "Waiting on the other agency"


class Note(models.Model):
    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField(max_length=20, choices=NoteKind.choices, default=NoteKind.NOTE)
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, null=True, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    happened_on = models.DateField(default=timezone.localdate)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["escalation", "created_at"]


class Position(models.Model):
    """An agency's written position (Kirklees step 2: both agencies give reasons in writing)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="positions")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["escalation", "created_at"]


class Response(models.Model):
    """The challenged agency's response, as the record form asks for it."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="responses")
    responder = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    responder_name = models.CharField(max_length=200)
    responder_job_title = models.CharField(max_length=200)
    responder_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    responded_on = models.DateField()
    summary = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["escalation", "created_at"]


class Approval(models.Model):
    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned with comments"

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="approvals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comments = models.TextField(blank=True)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["escalation", "decided_at"]


class Outcome(models.Model):
    """The agreed outcome in writing; a reopened escalation may gain a later one."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="outcomes")
    category = models.CharField(max_length=30, choices=OutcomeCategory.choices)
    summary = models.TextField()
    raiser_satisfied = models.BooleanField(null=True, blank=True)
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    stage_number = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["escalation", "recorded_at"]
        indexes = [models.Index(fields=["category", "escalation"])]


class Action(models.Model):
    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="actions")
    outcome = models.ForeignKey(
        Outcome, null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    what = models.TextField()
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


class ReferenceSequence(models.Model):
    """The last reference number used per partnership and year; locked while numbering."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partnership", "year"], name="one_sequence_per_year")
        ]


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


class Notice(models.Model):
    """Transactional outbox: written with the change that causes it, relayed once.

    A notice is about an escalation or about a child protection conference concern (Kirklees
    Appendix 3), never both. The key (escalation, episode, kind, recipient; or conference
    concern, kind, recipient) is unique, so a sweep or relay that runs twice cannot create a
    second notice."""

    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.PROTECT, related_name="notices"
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
        StageEpisode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=NoticeKind.choices)
    # Indexed by notice_recipient_unread, which leads with it.
    recipient = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="notices", db_index=False
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

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="notice_unsent",
                condition=Q(emailed_at__isnull=True, email_given_up=False),
            ),
            models.Index(fields=["recipient", "read_at"], name="notice_recipient_unread"),
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


# Models kept in their own modules, registered with this app.
from escalations.conference import ConferenceReport, ConferenceResponse  # noqa: E402, F401
from escalations.drafts import DraftChallenge  # noqa: E402, F401
