"""The test data factories build only what the product itself reaches: the state their name
says, with the events, stage episodes, notices and record rows the services write for it."""

from datetime import date

import pytest
from django.utils import timezone

from cases.models import Child, Sector
from escalations.models import EventKind, NoticeKind, OutcomeCategory, State
from escalations.record.models import DueRecord
from policies.models import Partnership, Role
from tests.factories import (
    AgencyFactory,
    AwaitingApprovalEscalationFactory,
    ChildFactory,
    ClosedEscalationFactory,
    DraftEscalationFactory,
    EscalationAtStage2Factory,
    EscalationAtStageFactory,
    OpenEscalationFactory,
    OverdueEscalationFactory,
    PartnershipFactory,
    PersonFactory,
    ResolvedEscalationFactory,
    WithdrawnEscalationFactory,
)

pytestmark = pytest.mark.django_db

K = EventKind
STATES = [
    (DraftEscalationFactory, State.DRAFT, 1, [K.DRAFTED]),
    (OpenEscalationFactory, State.OPEN, 1, [K.DRAFTED, K.RAISED]),
    (
        AwaitingApprovalEscalationFactory,
        State.AWAITING_APPROVAL,
        1,
        [K.DRAFTED, K.RAISED, K.APPROVAL_REQUESTED],
    ),
    (
        EscalationAtStage2Factory,
        State.OPEN,
        2,
        [K.DRAFTED, K.RAISED, K.APPROVAL_REQUESTED, K.APPROVED],
    ),
    (OverdueEscalationFactory, State.OPEN, 1, [K.DRAFTED, K.RAISED, K.OVERDUE]),
    (ResolvedEscalationFactory, State.RESOLVED, 1, [K.DRAFTED, K.RAISED, K.RESOLVED]),
    (ClosedEscalationFactory, State.CLOSED, 1, [K.DRAFTED, K.RAISED, K.RESOLVED, K.CLOSED]),
    (WithdrawnEscalationFactory, State.WITHDRAWN, 1, [K.DRAFTED, K.RAISED, K.WITHDRAWN]),
]


@pytest.mark.parametrize(
    ("factory", "state", "stage", "kinds"), STATES, ids=[s[0].__name__ for s in STATES]
)
def test_each_factory_reaches_its_state_through_the_services(world, factory, state, stage, kinds):
    escalation = factory()

    assert (escalation.state, escalation.stage.number) == (state, stage)
    events = list(escalation.events.order_by("sequence"))
    assert [e.kind for e in events] == kinds
    assert [e.sequence for e in events] == list(range(1, escalation.event_count + 1))
    open_episodes = list(escalation.episodes.filter(ended_at__isnull=True))
    if state in (State.OPEN, State.AWAITING_APPROVAL):
        assert [e.number for e in open_episodes] == [stage]
    else:
        assert open_episodes == []
    assert escalation.raised_by == world.alice
    assert escalation.child.given_names == "Poppy"


def test_a_draft_has_no_reference_clock_or_notice(world):
    draft = DraftEscalationFactory()

    assert draft.reference is None and draft.due_at is None
    assert not draft.notices.exists() and not draft.episodes.exists()


def test_an_open_escalation_is_numbered_held_by_its_raiser_and_its_people_told(world):
    escalation = OpenEscalationFactory()

    assert escalation.reference.startswith("KIR-")
    assert escalation.holder == world.alice
    # Stage 1's five working days run from the initial discussion, Monday 2 November 2026.
    assert timezone.localtime(escalation.due_at).date() == date(2026, 11, 9)
    told = set(escalation.notices.values_list("kind", "recipient__user__username"))
    assert told == {(NoticeKind.RAISED, "alice"), (NoticeKind.RAISED, "erin")}


def test_awaiting_approval_waits_for_the_raising_agencys_lead_or_line_manager(world):
    escalation = AwaitingApprovalEscalationFactory()

    assert escalation.pending_stage.number == 2
    assert escalation.approval_requested_by == world.alice
    asked = escalation.notices.filter(kind=NoticeKind.APPROVAL_NEEDED)
    assert {n.recipient for n in asked} == {world.carol, world.bob}


def test_climbing_to_stage_five_moves_through_each_stage_and_marks_the_record_due(world):
    escalation = EscalationAtStageFactory(stage=5)

    episodes = list(escalation.episodes.order_by("started_at", "id"))
    assert [e.number for e in episodes] == [1, 2, 3, 4, 5]
    assert [e.ended_by for e in episodes] == ["escalated"] * 4 + [""]
    assert escalation.holder == world.dan and escalation.partnership_sees_record
    # Each step taken by whoever held it: Alice, Alice, Bob, Bob; Carol approved stage 2.
    moves = escalation.events.filter(kind__in=[K.APPROVAL_REQUESTED, K.ESCALATED])
    assert [e.actor for e in moves.order_by("sequence")] == [
        world.alice,
        world.alice,
        world.bob,
        world.bob,
    ]
    assert escalation.approvals.get().decided_by == world.carol
    assert DueRecord.objects.get().escalation == escalation
    assert escalation.notices.filter(
        kind=NoticeKind.PARTNERSHIP_STAGE, recipient=world.ivan
    ).exists()


def test_overdue_is_marked_by_the_deadline_sweep_and_the_holder_told(world):
    escalation = OverdueEscalationFactory()

    assert escalation.overdue
    assert escalation.notices.filter(kind=NoticeKind.OVERDUE, recipient=world.alice).exists()


def test_overdue_refuses_an_escalation_whose_time_has_not_run_out(world):
    with pytest.raises(ValueError, match="Not past its time limit"):
        OverdueEscalationFactory(initial_discussion_on=timezone.localdate())


def test_resolved_keeps_its_outcome_and_an_outstanding_action(world):
    escalation = ResolvedEscalationFactory()

    outcome = escalation.outcomes.get()
    assert (outcome.category, outcome.recorded_by) == (OutcomeCategory.PARTLY_UPHELD, world.alice)
    assert escalation.outstanding_actions().get().what == "Joint visit"
    assert escalation.due_at is None and escalation.resolved_on is not None


def test_closed_with_the_learning_and_debrief_recorded_declines_nothing(world):
    escalation = ClosedEscalationFactory(
        learning="Share disclosures the same day.", debrief_summary="Joint debrief held."
    )

    assert escalation.state == State.CLOSED
    assert escalation.debrief_declined_reason == ""
    kinds = list(escalation.events.values_list("kind", flat=True))
    assert kinds[-3:] == [K.LEARNING, K.DEBRIEF, K.CLOSED]


def test_withdrawn_records_why_as_its_outcome(world):
    escalation = WithdrawnEscalationFactory(why_withdrawn="Settled by a phone call.")

    outcome = escalation.outcomes.get()
    assert (outcome.category, outcome.summary) == ("withdrawn", "Settled by a phone call.")


def test_a_factory_takes_the_raise_forms_fields_and_the_childs(world):
    escalation = OpenEscalationFactory(
        by=world.robin,
        receiving_agency=world.health,
        receiving_person=world.charlie,
        natures=["information_sharing"],
        child__given_names="Rowan",
    )

    assert escalation.raising_agency == world.smallsteps
    assert escalation.nature_labels() == ["Information sharing"]
    assert escalation.child.given_names == "Rowan"
    assert escalation.child.home_partnership == world.kirklees


def test_an_escalation_is_never_built_without_saving_or_with_an_unknown_choice(world):
    with pytest.raises(TypeError, match="only through the services"):
        OpenEscalationFactory.build()
    with pytest.raises(TypeError, match="does not take colour"):
        OpenEscalationFactory(colour="red")


def test_people_agencies_and_children_come_with_their_relationships(world):
    berkshire = PartnershipFactory(slug="berkshire")
    agency = AgencyFactory(
        name="Riverside Nursery", sector=Sector.EARLY_YEARS, partnerships=[berkshire]
    )
    person = PersonFactory(
        user__username="nell",
        full_name="Nell Nash",
        roles=[(agency, Role.SAFEGUARDING_LEAD, "Nursery Manager"), (berkshire, Role.CHAIR)],
    )
    child = ChildFactory(home_partnership=berkshire)

    assert list(agency.partnerships.all()) == [berkshire]
    assert person.user.check_password("correct-horse-battery-staple")
    assert {(m.role, m.agency, m.partnership, m.job_title) for m in person.memberships.all()} == {
        (Role.SAFEGUARDING_LEAD, agency, None, "Nursery Manager"),
        (Role.CHAIR, None, berkshire, Role.CHAIR.label),
    }
    assert Child.objects.get(pk=child.pk).home_partnership == berkshire


def test_a_partnership_comes_from_its_ladder_file(db):
    kirklees = PartnershipFactory()

    assert kirklees.current_ladder is not None
    assert Partnership.objects.count() == 5
    with pytest.raises(LookupError):
        PartnershipFactory(slug="atlantis")
