"""Escalations in each state the product can reach, built through the services.

Each factory raises a challenge with services.raise_escalation, then takes it, through the
services a person would use (escalate, approve, resolve, close, withdraw) and the deadline
sweep, to the state its name says: the events, stage episodes, notices and record rows are the
ones the product writes. Nothing is written by hand, so no test starts from a state the
product could never be in.

By default it is Alice's challenge (Meadow School) to Erin at Northfold Children's Social Care
about Poppy, a Kirklees child, first discussed on Monday 2 November 2026: the personas of
tests/personas.py, so a test asks for the `world` fixture. Any argument of raise_escalation can
be given (OpenEscalationFactory(by=world.robin, natures=["information_sharing"])), the child's
details too (child__given_names="Rowan", child__home_partnership=world.berkshire), and each
state's own choices (who escalates, approves, resolves; the outcome; the reasons).
"""

from __future__ import annotations

import inspect
from datetime import date

import factory
from django.utils import timezone

from cases.models import Agency, Person
from escalations import services
from escalations.deadlines import sweep
from escalations.models import (
    Escalation,
    EventKind,
    Notice,
    NoticeKind,
    OutcomeCategory,
    State,
)
from tests.factories.policies import PartnershipFactory

RAISING = frozenset(inspect.signature(services.raise_escalation).parameters)
ASKED_TO_APPROVE = (NoticeKind.APPROVAL_NEEDED, NoticeKind.APPROVAL_NEEDED_NO_LEAD)


def persona(username: str) -> Person:
    """A person of tests/personas.py, by username."""
    person = Person.objects.select_related("user").filter(user__username=username).first()
    if person is None:
        raise LookupError(f"There is no persona {username!r}: the test needs the world fixture.")
    return person


def agency_named(name: str) -> Agency:
    return Agency.objects.get(name=name)


def first_agency(person: Person) -> Agency | None:
    """The agency a person raises for: their first agency membership."""
    membership = person.memberships.filter(agency__isnull=False).order_by("id").first()
    return membership.agency if membership else None


def fresh(escalation: Escalation) -> Escalation:
    return Escalation.objects.select_related("stage", "ladder", "holder", "raised_by").get(
        pk=escalation.pk
    )


def asked_to_approve(escalation: Escalation) -> Person:
    """The first person the latest approval request was put to (services.escalate's notices)."""
    request = escalation.events.filter(kind=EventKind.APPROVAL_REQUESTED).order_by("-sequence")[0]
    notice = (
        escalation.notices.filter(kind__in=ASKED_TO_APPROVE, created_at__gte=request.occurred_at)
        .select_related("recipient")
        .order_by("id")
        .first()
    )
    if notice is None:
        raise LookupError(f"Nobody was asked to approve {escalation}.")
    return notice.recipient


def climb(
    escalation: Escalation,
    to: int,
    *,
    by: Person | None = None,
    approved_by: Person | None = None,
    why: str | None = None,
) -> Escalation:
    """Up the ladder to stage `to` through services.escalate: each step taken by `by`, or by
    whoever holds the escalation then (the practitioner, then the line manager, then the head
    of service); each stage that needs approval approved by `approved_by`, or by the first
    person the request was put to."""
    escalation = fresh(escalation)
    while escalation.stage.number < to:
        mover = by or escalation.holder or escalation.raised_by
        reason = why or (
            "No reply from CSC after the discussion."
            if escalation.stage.number == 1
            else f"Still unresolved at stage {escalation.stage.number}."
        )
        escalation = services.escalate(escalation, by=mover, reason=reason)
        if escalation.state == State.AWAITING_APPROVAL:
            approver = approved_by or asked_to_approve(escalation)
            escalation = services.approve(
                escalation, by=approver, comments="Agreed: put it in writing."
            )
        escalation = fresh(escalation)
    return escalation


class ChildDetailsFactory(factory.Factory):
    """The child as the raise form describes them; raise_escalation makes the Child row."""

    class Meta:
        model = services.ChildDetails

    home_partnership = factory.SubFactory(PartnershipFactory)
    given_names = "Poppy"
    family_name = "Testwell"
    date_of_birth = date(2019, 4, 2)
    address = "1 Invented Row, Nowhere"


class DraftEscalationFactory(factory.Factory):
    """Kept as a draft: raise_escalation(submit=False), seen by its raiser alone."""

    class Meta:
        model = Escalation

    by = factory.LazyFunction(lambda: persona("alice"))
    child = factory.SubFactory(ChildDetailsFactory)
    raising_agency = factory.LazyAttribute(lambda o: first_agency(o.by))
    receiving_agency = factory.LazyFunction(
        lambda: agency_named("Northfold Children's Social Care")
    )
    receiving_person = factory.LazyFunction(lambda: persona("erin"))
    pathway = "referral"
    natures = factory.LazyFunction(lambda: ["referral_decision"])
    details = "CSC declined the referral despite new disclosures."
    outcome_sought = "The referral is reconsidered by a manager."
    interim_safety = "The school's DSL checks in with Poppy daily."
    initial_discussion_on = date(2026, 11, 2)
    submit = False

    @classmethod
    def build(cls, **kwargs):
        raise TypeError("An escalation is made only through the services: call the factory.")

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        cls.build()

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Escalation:
        raising = {name: value for name, value in kwargs.items() if name in RAISING}
        params = {name: value for name, value in kwargs.items() if name not in RAISING}
        start = raising.get("start_stage_number", 1)
        if start != 1 and not raising["child"].home_partnership.start_at_any_stage:
            # Only the playgroup and Berkshire policies let a challenge start past stage 1
            # (issue 15); elsewhere the escalation is raised at stage 1 and, once submitted,
            # climbed there.
            raising["start_stage_number"] = 1
            escalation = cls.reach(services.raise_escalation(**raising), params)
            return fresh(climb(escalation, start) if raising.get("submit") else escalation)
        escalation = cls.reach(services.raise_escalation(**raising), params)
        if params:
            raise TypeError(f"{cls.__name__} does not take {', '.join(sorted(params))}.")
        return fresh(escalation)

    @classmethod
    def reach(cls, escalation: Escalation, params: dict) -> Escalation:
        """Take the just-raised escalation to this factory's state, using up its params."""
        return escalation


class OpenEscalationFactory(DraftEscalationFactory):
    """Raised and open at stage 1 (or, with immediate_risk=True, at start_stage_number), held
    by its raiser, stage 1's clock running from the initial discussion."""

    submit = True


class EscalationAtStageFactory(OpenEscalationFactory):
    """Open at `stage`, climbed there step by step (climb()): EscalationAtStageFactory(stage=5)
    is at Kirklees' first partnership stage, its record due."""

    stage = 2
    escalated_by = None
    approved_by = None
    why_escalated = None

    @classmethod
    def reach(cls, escalation: Escalation, params: dict) -> Escalation:
        escalation = super().reach(escalation, params)
        return climb(
            escalation,
            params.pop("stage"),
            by=params.pop("escalated_by"),
            approved_by=params.pop("approved_by"),
            why=params.pop("why_escalated"),
        )


class EscalationAtStage2Factory(EscalationAtStageFactory):
    """Kirklees stage 2 (written confirmation): Alice escalated, Carol, the school's
    safeguarding lead, approved."""

    stage = 2


class AwaitingApprovalEscalationFactory(OpenEscalationFactory):
    """Escalated towards a stage that needs the raising agency's approval (the first such stage
    unless `to_stage` says), waiting for it: Kirklees stage 2 waits for Carol."""

    to_stage = None
    asked_by = None
    why_escalated = "No reply from CSC after the discussion."

    @classmethod
    def reach(cls, escalation: Escalation, params: dict) -> Escalation:
        escalation = super().reach(escalation, params)
        stages = [s.number for s in escalation.ladder.escalation_stages()]
        gated = [
            s.number
            for s in escalation.ladder.escalation_stages()
            if s.approval_required and s.number > escalation.stage.number
        ]
        target = params.pop("to_stage") or gated[0]
        if target not in gated:
            raise ValueError(f"Stage {target} of {escalation.ladder} needs no approval.")
        escalation = climb(escalation, stages[stages.index(target) - 1])
        asker = params.pop("asked_by") or escalation.holder or escalation.raised_by
        return services.escalate(escalation, by=asker, reason=params.pop("why_escalated"))


class OverdueEscalationFactory(OpenEscalationFactory):
    """Open at stage 1 past its time limit, marked overdue by the real deadline sweep (which,
    as in the product, also marks any other escalation already past its time)."""

    @classmethod
    def reach(cls, escalation: Escalation, params: dict) -> Escalation:
        escalation = super().reach(escalation, params)
        if escalation.due_at is None or escalation.due_at > timezone.now():
            raise ValueError("Not past its time limit yet: give an earlier initial_discussion_on.")
        sweep()
        return escalation


class ResolvedEscalationFactory(EscalationAtStageFactory):
    """Resolved at `stage` (1 unless told) by whoever holds it there, partly upheld, with one
    action still outstanding (so it may be reopened); actions=[] for none."""

    stage = 1
    resolved_by = None
    category = OutcomeCategory.PARTLY_UPHELD
    summary = "CSC will visit jointly with the school."
    raiser_satisfied = True
    actions = factory.LazyFunction(
        lambda: [
            services.ActionItem(
                what="Joint visit", owner_name="Erin Earl", due_on=date(2026, 12, 4)
            )
        ]
    )

    @classmethod
    def reach(cls, escalation: Escalation, params: dict) -> Escalation:
        escalation = super().reach(escalation, params)
        return services.resolve(
            escalation,
            by=params.pop("resolved_by") or escalation.holder,
            category=params.pop("category"),
            summary=params.pop("summary"),
            raiser_satisfied=params.pop("raiser_satisfied"),
            actions=params.pop("actions"),
        )


class ClosedEscalationFactory(ResolvedEscalationFactory):
    """Resolved, then closed by its raiser: with the learning and the debrief recorded where
    given, else with the debrief declined and the reason why."""

    closed_by = None
    learning = ""
    debrief_summary = ""
    declined_reason = "No debrief needed."

    @classmethod
    def reach(cls, escalation: Escalation, params: dict) -> Escalation:
        escalation = super().reach(escalation, params)
        by = params.pop("closed_by") or escalation.raised_by
        learning, debrief = params.pop("learning"), params.pop("debrief_summary")
        declined = params.pop("declined_reason")
        if learning:
            services.record_learning(escalation, by=by, learning=learning)
        if debrief:
            services.record_debrief(
                escalation, by=by, summary=debrief, held_on=timezone.localdate()
            )
        return services.close(escalation, by=by, declined_reason="" if debrief else declined)


class WithdrawnEscalationFactory(EscalationAtStageFactory):
    """Withdrawn by its raiser at `stage` (1 unless told), with the reason."""

    stage = 1
    withdrawn_by = None
    why_withdrawn = "Information since shared."

    @classmethod
    def reach(cls, escalation: Escalation, params: dict) -> Escalation:
        escalation = super().reach(escalation, params)
        return services.withdraw(
            escalation,
            by=params.pop("withdrawn_by") or escalation.raised_by,
            reason=params.pop("why_withdrawn"),
        )


def many_unread_notices(person: Person, count: int) -> int:
    """`count` unread notices for the person, written through the outbox (each a reminder on
    its own occasion) about the escalations they may open, as years of use would leave them."""
    visible = list(Escalation.objects.visible_to(person.user).exclude(state=State.DRAFT)[:5])
    assert visible, f"{person.full_name} may open no escalation to be told about"
    return sum(
        Notice.objects.write(
            visible[i % len(visible)], NoticeKind.REMINDER, [person], occasion=f"many:{i}"
        )
        for i in range(count)
    )
