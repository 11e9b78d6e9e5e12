"""The escalation: its querysets (the one scoped entry point, visible_to) and its state machine.
Changes go through escalations.services."""

from __future__ import annotations

from django.db import models
from django.db.models import Aggregate, CharField, Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django_fsm import FSMField, transition

from cases import limits
from cases.models import Agency, Child, Person
from escalations import approvals
from escalations.models.choices import (
    LIVE_STATES,
    PARTNERSHIP_FIGURES_ROLES,
    WITHDRAWABLE_STATES,
    Nature,
    Pathway,
    State,
)
from escalations.models.parts import EscalationNature, Participant
from policies.models import (
    AGENCY_OVERSIGHT_ROLES,
    PARTNERSHIP_ROLES,
    Ladder,
    Partnership,
    Role,
    Stage,
)


def awaiting_approval_of(person: Person) -> Q:
    """Waiting for this person's decision, as a condition for a filter or a filtered count (the
    rule is escalations.approvals.may_decide's)."""
    return Q(state=State.AWAITING_APPROVAL) & approvals.approver_condition(person)


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
        """Annotates who of the raising agency is present to decide a pending request, in the
        same query: what escalations.approvals.may_decide would otherwise read with a query of
        its own."""
        return self.annotate(**approvals.presence_annotations())

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
    # No index of their own for partnership, raising_agency, raised_by, receiving_agency and
    # holder: each leads one of Meta.indexes, which serves the same lookups. An index fewer is
    # one fewer to write for every escalation raised and every update the sweep cannot make in
    # place (ADR 0035).
    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="escalations", db_index=False
    )
    ladder = models.ForeignKey(Ladder, on_delete=models.PROTECT, related_name="escalations")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="escalations")
    raising_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="raised_escalations", db_index=False
    )
    raised_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="raised_escalations", db_index=False
    )
    receiving_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="received_escalations", db_index=False
    )
    receiving_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="received_escalations"
    )
    receiving_team = models.CharField(max_length=200, blank=True)
    pathway = models.CharField(max_length=30, choices=Pathway.choices)
    nature_other = models.CharField(max_length=300, blank=True)
    details = models.TextField(max_length=limits.ACCOUNT)
    outcome_sought = models.TextField(max_length=limits.ACCOUNT)
    immediate_risk = models.BooleanField(default=False)
    interim_safety = models.TextField(max_length=limits.ACCOUNT)
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
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="held_escalations",
        db_index=False,
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
    # The approval request, as typed data (kept after the decision, like approval_requested_by):
    # the role of those asked (the gate's approvers, or stand-ins in their absence:
    # escalations.approvals), who they were in words as they were told ("its senior manager,
    # Dan Dale", as Response keeps responder_name), and the asker's own words. The
    # APPROVAL_REQUESTED event keeps the whole reason as it reads in the history.
    approval_asked_as = models.CharField(max_length=30, choices=Role.choices, blank=True)
    approval_asked_of = models.CharField(max_length=300, blank=True)
    approval_reason = models.TextField(blank=True, max_length=limits.REASON)

    raised_on = models.DateTimeField(null=True, blank=True)
    resolved_on = models.DateTimeField(null=True, blank=True)
    closed_on = models.DateTimeField(null=True, blank=True)
    withdrawn_on = models.DateTimeField(null=True, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    updated_on = models.DateTimeField(default=timezone.now)

    # After resolution (SPEC section 4): parents and carers, learning, policy gaps, debrief.
    parents_informed = models.BooleanField(null=True, blank=True)
    parents_not_informed_reason = models.TextField(blank=True, max_length=limits.REASON)
    learning = models.TextField(blank=True, max_length=limits.ACCOUNT)
    policy_gap = models.TextField(blank=True, max_length=limits.ACCOUNT)
    debrief_summary = models.TextField(blank=True, max_length=limits.ACCOUNT)
    debrief_on = models.DateField(null=True, blank=True)
    debrief_declined_reason = models.TextField(blank=True, max_length=limits.REASON)

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
            # An agency's lists, most urgent first, read along each side in their order
            # (escalations.listing.URGENT_FIRST) without gathering the agency's history. Not
            # `overdue`: the sweep's own flags stay out of every index, so that marking rows
            # overdue updates them in place (HOT).
            models.Index(
                fields=["raising_agency", "due_at", "-raised_on", "-id"],
                name="esc_raising_urgent",
                condition=~Q(state=State.DRAFT),
            ),
            models.Index(
                fields=["receiving_agency", "due_at", "-raised_on", "-id"],
                name="esc_receiving_urgent",
                condition=~Q(state=State.DRAFT),
            ),
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
        # The longest text each field keeps (cases.limits).
        constraints = [
            limits.text_limit("details", limits.ACCOUNT, prefix="escalation"),
            limits.text_limit("outcome_sought", limits.ACCOUNT, prefix="escalation"),
            limits.text_limit("interim_safety", limits.ACCOUNT, prefix="escalation"),
            limits.text_limit("approval_reason", limits.REASON, prefix="escalation"),
            limits.text_limit("parents_not_informed_reason", limits.REASON, prefix="escalation"),
            limits.text_limit("learning", limits.ACCOUNT, prefix="escalation"),
            limits.text_limit("policy_gap", limits.ACCOUNT, prefix="escalation"),
            limits.text_limit("debrief_summary", limits.ACCOUNT, prefix="escalation"),
            limits.text_limit("debrief_declined_reason", limits.REASON, prefix="escalation"),
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

    def open_to(self, person: Person | None) -> bool:
        """Whether this person may open the escalation as it stands in memory, by the rule of
        EscalationQuerySet.visible_to (SPEC section 3). A change in progress (a new holder, the
        partnership brought in) is not saved yet when its notices are written, so the outbox
        asks this rather than the database; tests hold the two to the same answers."""
        if person is None or not person.user.is_active:
            return False
        if self.state == State.DRAFT:
            return self.raised_by_id == person.pk
        if person.pk in (self.raised_by_id, self.holder_id, self.receiving_person_id):
            return True
        for m in person.memberships.all():
            if m.role in AGENCY_OVERSIGHT_ROLES and m.agency_id in (
                self.raising_agency_id,
                self.receiving_agency_id,
            ):
                return True
            if (
                m.partnership_id == self.partnership_id
                and m.role in PARTNERSHIP_ROLES
                and self.partnership_sees_record
            ):
                return True
        return Participant.objects.filter(escalation_id=self.pk, person=person).exists()

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
