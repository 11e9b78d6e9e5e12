"""Every legal and every illegal transition of the escalation state machine (SPEC section 4).

A transition refused for the state it finds is an ActionRefused with a message a person can
read; a transition taken writes exactly one event in the same transaction."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases.models import Sector
from escalations import services
from escalations.models import (
    TRANSITION_KINDS,
    Escalation,
    Event,
    EventKind,
    OutcomeCategory,
    State,
)
from escalations.services import ActionItem, ActionRefused
from tests.factories import (
    AgencyFactory,
    AwaitingApprovalEscalationFactory,
    ClosedEscalationFactory,
    DraftEscalationFactory,
    EscalationAtStage2Factory,
    OpenEscalationFactory,
    PartnershipFactory,
    ResolvedEscalationFactory,
    WithdrawnEscalationFactory,
)
from tests.personas import make_person

# --- an escalation in each state, reached through the services -------------------------------

BUILD = {
    State.DRAFT: DraftEscalationFactory,
    State.OPEN: OpenEscalationFactory,
    State.AWAITING_APPROVAL: AwaitingApprovalEscalationFactory,
    # Partly upheld, one action outstanding (so it may be reopened).
    State.RESOLVED: ResolvedEscalationFactory,
    State.CLOSED: ClosedEscalationFactory,
    State.WITHDRAWN: WithdrawnEscalationFactory,
}

# --- every action, by someone entitled to it in the state where it is legal -------------------

ACTIONS = {
    "submit": lambda w, e: services.submit_escalation(e, by=w.alice),
    "escalate": lambda w, e: services.escalate(e, by=w.carol, reason="Still unresolved."),
    "approve": lambda w, e: services.approve(e, by=w.carol, comments="Agreed."),
    "return": lambda w, e: services.return_with_comments(e, by=w.carol, comments="Talk again."),
    "resolve": lambda w, e: services.resolve(
        e,
        by=w.carol,
        category=OutcomeCategory.UPHELD,
        summary="CSC will reassess.",
        raiser_satisfied=True,
    ),
    "reopen": lambda w, e: services.reopen(e, by=w.carol, reason="The visit did not happen."),
    "close": lambda w, e: services.close(e, by=w.carol, declined_reason="Nothing to debrief."),
    "withdraw": lambda w, e: services.withdraw(e, by=w.alice, reason="Resolved informally."),
    "advance_step": lambda w, e: services.advance_step(e, by=w.carol, note="Spoke to Erin."),
}

# state -> action -> (state after, stage after, event kind)
LEGAL = {
    State.DRAFT: {
        "submit": (State.OPEN, 1, EventKind.RAISED),
        "withdraw": (State.WITHDRAWN, 1, EventKind.WITHDRAWN),
    },
    State.OPEN: {
        # Kirklees stage 2 needs the safeguarding lead's approval first.
        "escalate": (State.AWAITING_APPROVAL, 1, EventKind.APPROVAL_REQUESTED),
        "resolve": (State.RESOLVED, 1, EventKind.RESOLVED),
        "withdraw": (State.WITHDRAWN, 1, EventKind.WITHDRAWN),
    },
    State.AWAITING_APPROVAL: {
        "approve": (State.OPEN, 2, EventKind.APPROVED),
        "return": (State.OPEN, 1, EventKind.RETURNED),
        "withdraw": (State.WITHDRAWN, 1, EventKind.WITHDRAWN),
    },
    State.RESOLVED: {
        "reopen": (State.OPEN, 1, EventKind.REOPENED),
        "close": (State.CLOSED, 1, EventKind.CLOSED),
    },
    State.CLOSED: {},
    State.WITHDRAWN: {},
}

# The reason each action above records on its event.
REASONS = {
    "submit": "",
    "escalate": "Still unresolved.",
    "approve": "Agreed.",
    "return": "Talk again.",
    "resolve": "Upheld: CSC will reassess.",
    "reopen": "The visit did not happen.",
    "close": "Nothing to debrief.",
    "withdraw": "Resolved informally.",
}

LEGAL_CASES = [(state, action) for state, acts in LEGAL.items() for action in acts]
ILLEGAL_CASES = [
    (state, action) for state in LEGAL for action in ACTIONS if action not in LEGAL[state]
]


def case_id(case) -> str:
    state, action = case
    return f"{action}-when-{state}"


def transition_events(esc) -> list[Event]:
    return list(Event.objects.filter(escalation=esc, kind__in=TRANSITION_KINDS))


@pytest.mark.parametrize("case", LEGAL_CASES, ids=case_id)
def test_a_legal_transition_moves_the_state_and_writes_one_event(world, case):
    state, action = case
    esc = BUILD[state]()
    assert esc.state == state
    before = Event.objects.filter(escalation=esc).count()
    started = timezone.now()

    ACTIONS[action](world, esc)

    esc = Escalation.objects.get(pk=esc.pk)
    to_state, to_stage, kind = LEGAL[state][action]
    assert (esc.state, esc.stage.number) == (to_state, to_stage)
    new = list(Event.objects.filter(escalation=esc).order_by("sequence")[before:])
    assert len(new) == 1
    event = new[0]
    assert event.kind == kind
    assert event.sequence == before + 1 == esc.event_count
    assert (event.from_state, event.to_state) == (state, to_state)
    assert event.from_stage == 1 and event.to_stage == to_stage
    assert event.actor in (world.alice, world.carol)
    assert event.reason == REASONS[action]
    assert event.actor_agency == world.school
    assert started <= event.occurred_at <= timezone.now()


@pytest.mark.parametrize("case", ILLEGAL_CASES, ids=case_id)
def test_an_illegal_transition_is_refused_clearly_and_changes_nothing(world, case):
    state, action = case
    esc = BUILD[state]()
    before = (esc.state, esc.stage_id, esc.revision, esc.events.count())

    with pytest.raises(ActionRefused) as refused:
        ACTIONS[action](world, esc)

    message = str(refused.value)
    assert message.endswith(".") and len(message) > 20
    esc = Escalation.objects.get(pk=esc.pk)
    assert (esc.state, esc.stage_id, esc.revision, esc.events.count()) == before


def test_a_refusal_for_the_state_says_what_state_it_is_in(world):
    esc = ClosedEscalationFactory()
    with pytest.raises(ActionRefused, match="it is closed"):
        services.reopen(esc, by=world.alice, reason="Second thoughts.")
    esc = WithdrawnEscalationFactory()
    with pytest.raises(ActionRefused, match="it is withdrawn"):
        services.escalate(esc, by=world.alice, reason="Second thoughts.")


# --- the rules inside the legal transitions ----------------------------------------------------


def test_submit_is_only_for_the_raiser(world):
    esc = DraftEscalationFactory()
    with pytest.raises(ActionRefused):
        services.submit_escalation(esc, by=world.carol)
    assert Escalation.objects.get(pk=esc.pk).state == State.DRAFT


def test_escalate_needs_a_reason(world):
    esc = OpenEscalationFactory()
    with pytest.raises(ActionRefused, match="why you are escalating"):
        services.escalate(esc, by=world.alice, reason="   ")
    assert Escalation.objects.get(pk=esc.pk).state == State.OPEN


def test_escalate_without_approval_moves_to_the_next_stage(world):
    esc = EscalationAtStage2Factory()
    before = esc.events.count()
    esc = services.escalate(esc, by=world.bob, reason="Erin's manager did not reply.")
    assert (esc.state, esc.stage.number) == (State.OPEN, 3)
    event = esc.events.order_by("-sequence").first()
    assert esc.events.count() == before + 1
    assert (event.kind, event.from_stage, event.to_stage) == (EventKind.ESCALATED, 2, 3)
    assert event.reason == "Erin's manager did not reply."
    assert esc.highest_stage_number == 3


def test_escalate_refuses_past_the_last_stage(world):
    esc = OpenEscalationFactory(immediate_risk=True, start_stage_number=6, by=world.alice)
    assert esc.stage.number == 6
    with pytest.raises(ActionRefused, match="last stage"):
        services.escalate(esc, by=world.ivan, reason="Further?")
    assert Escalation.objects.get(pk=esc.pk).stage.number == 6


def test_approval_and_return_are_for_the_raising_agencys_lead_or_line_manager(world):
    esc = AwaitingApprovalEscalationFactory()
    for person in (world.alice, world.dan, world.grace, world.frank, world.ivan):
        with pytest.raises(ActionRefused):
            services.approve(esc, by=person)
    with pytest.raises(ActionRefused, match="comments"):
        services.return_with_comments(esc, by=world.carol, comments="")
    assert Escalation.objects.get(pk=esc.pk).state == State.AWAITING_APPROVAL
    # Kirklees: "the challenging agency's Safeguarding Lead and/ or the relevant Line Manager,
    # to agree and record": the line manager agrees as well as the lead.
    esc = services.approve(esc, by=world.bob, comments="Agreed.")
    assert esc.state == State.OPEN and esc.stage.number == 2


def test_resolve_needs_a_written_outcome_and_a_real_category(world):
    esc = OpenEscalationFactory()
    with pytest.raises(ActionRefused, match="agreed outcome in writing"):
        services.resolve(
            esc, by=world.alice, category="upheld", summary="  ", raiser_satisfied=True
        )
    with pytest.raises(ActionRefused, match="Select the outcome"):
        services.resolve(
            esc, by=world.alice, category="withdrawn", summary="Done.", raiser_satisfied=True
        )
    with pytest.raises(ActionRefused, match="who will do action 1"):
        services.resolve(
            esc,
            by=world.alice,
            category="upheld",
            summary="Done.",
            raiser_satisfied=True,
            actions=[ActionItem(what="Visit", owner_name="", due_on=date(2026, 12, 1))],
        )
    assert Escalation.objects.get(pk=esc.pk).state == State.OPEN


def test_reopen_needs_outstanding_actions_and_a_reason(world):
    esc = ResolvedEscalationFactory()
    with pytest.raises(ActionRefused, match="why you are reopening"):
        services.reopen(esc, by=world.alice, reason="")
    action = esc.actions.get()
    services.mark_action_done(
        action.pk, escalation=esc, by=world.erin, done_on=timezone.localdate()
    )
    with pytest.raises(ActionRefused, match="outstanding"):
        services.reopen(esc, by=world.alice, reason="The visit was poor.")
    assert Escalation.objects.get(pk=esc.pk).state == State.RESOLVED


def test_reopen_restarts_the_clock_at_the_same_stage(world):
    esc = services.reopen(
        ResolvedEscalationFactory(), by=world.alice, reason="The visit did not happen."
    )
    assert (esc.state, esc.stage.number) == (State.OPEN, 1)
    assert esc.resolved_on is None and esc.due_at > timezone.now()


@pytest.mark.parametrize("slug", ["kirklees", "berkshire", "playgroup", "lincolnshire"])
def test_the_debrief_and_learning_never_block_closing(world, slug):
    """A debrief is good practice offered everywhere; no policy requires one (issue 15)."""
    esc = ResolvedEscalationFactory() if slug == "kirklees" else resolved_in(world, slug)
    esc = services.close(esc, by=esc.raised_by)
    assert esc.state == State.CLOSED and esc.closed_on is not None


def test_pan_cheshire_closes_only_once_whether_parents_were_told_is_recorded(world):
    """ "Parents and carers should also be informed of the escalation and outcome (unless doing
    so would place the child at risk of significant harm)"."""
    esc = resolved_in(world, "pan-cheshire")
    with pytest.raises(ActionRefused, match="Record whether parents or carers were told"):
        services.close(esc, by=esc.raised_by)
    assert Escalation.objects.get(pk=esc.pk).state == State.RESOLVED
    services.record_parents_informed(
        esc, by=esc.raised_by, informed=False, reason="Telling them would put the child at risk."
    )
    esc = services.close(esc, by=esc.raised_by)
    assert esc.state == State.CLOSED


def resolved_in(world, slug):
    """A challenge about a child of `slug`, resolved at stage 1 by its raiser."""
    partnership = PartnershipFactory(slug=slug)
    school = AgencyFactory(name=f"{slug} school", partnerships=[partnership])
    other = AgencyFactory(
        name=f"{slug} social care",
        sector=Sector.CHILDRENS_SOCIAL_CARE,
        partnerships=[partnership],
    )
    raiser = make_person(f"{slug}-teacher", "Tess Teach", (school, "practitioner"))
    return ResolvedEscalationFactory(
        by=raiser,
        child=services.ChildDetails(home_partnership=partnership, given_names="Wren"),
        receiving_agency=other,
        receiving_person=None,
        resolved_by=raiser,
    )


def test_close_with_a_declined_reason_keeps_the_reason(world):
    esc = services.close(
        ResolvedEscalationFactory(), by=world.alice, declined_reason="Family moved away."
    )
    assert esc.debrief_declined_reason == "Family moved away."
    assert esc.events.order_by("-sequence").first().reason == "Family moved away."


@pytest.mark.parametrize("state", [State.DRAFT, State.OPEN, State.AWAITING_APPROVAL])
def test_withdraw_needs_a_reason(world, state):
    esc = BUILD[state]()
    with pytest.raises(ActionRefused, match="why the challenge is being withdrawn"):
        services.withdraw(esc, by=world.alice, reason=" ")
    assert Escalation.objects.get(pk=esc.pk).state == state


def test_withdrawing_while_awaiting_approval_drops_the_pending_stage(world):
    esc = services.withdraw(
        AwaitingApprovalEscalationFactory(), by=world.alice, reason="Resolved by phone."
    )
    assert esc.state == State.WITHDRAWN and esc.pending_stage is None
    assert esc.outcomes.get().category == OutcomeCategory.WITHDRAWN


# --- Berkshire's timed steps -------------------------------------------------------------------


def raise_berkshire(world):
    return OpenEscalationFactory(
        by=world.oscar,
        child=services.ChildDetails(home_partnership=world.berkshire, given_names="Sky"),
        receiving_agency=world.constabulary,
        receiving_person=None,
        natures=["information_sharing"],
        details="Police did not share the strategy discussion outcome.",
        outcome_sought="The outcome is shared with school.",
        interim_safety="School DSL checks in daily.",
        initial_discussion_on=timezone.localdate(),
    )


def test_berkshire_stage_one_moves_from_discussion_to_the_managers_24_hours(world):
    esc = raise_berkshire(world)
    calendar = world.berkshire.calendar()
    assert timezone.localtime(esc.due_at).date() == calendar.add_working_days(
        timezone.localdate(), 1
    )
    before = timezone.now()
    esc = services.advance_step(esc, by=world.oscar, note="No agreement; told my manager.")
    assert (esc.state, esc.stage.number, esc.step) == (State.OPEN, 1, 1)
    assert before + timedelta(hours=24) <= esc.due_at <= timezone.now() + timedelta(hours=24)
    event = esc.events.order_by("-sequence").first()
    assert event.kind == EventKind.STEP_ADVANCED
    assert event.reason.startswith("Contact between the relevant line managers")
    with pytest.raises(ActionRefused):
        services.advance_step(esc, by=world.oscar, note="Again.")


def test_advance_step_is_refused_where_the_stage_has_no_steps(world):
    with pytest.raises(ActionRefused):
        services.advance_step(OpenEscalationFactory(), by=world.alice, note="Spoke to Erin.")


# --- one transaction ---------------------------------------------------------------------------


class Boom(Exception):
    pass


# Where the services call the outbox and announce a stage (escalations/services/).
LADDER = "escalations.services.ladder"
RESOLUTION = "escalations.services.resolution"


def explode(*args, **kwargs):
    raise Boom("the notice outbox failed")


@pytest.mark.parametrize(
    ("build", "act", "hook"),
    [
        (
            AwaitingApprovalEscalationFactory,
            lambda w, e: services.approve(e, by=w.carol),
            f"{LADDER}.announce_stage",
        ),
        (
            OpenEscalationFactory,
            lambda w, e: services.escalate(e, by=w.alice, reason="x"),
            f"{LADDER}.notify",
        ),
        (
            EscalationAtStage2Factory,
            lambda w, e: services.escalate(e, by=w.bob, reason="x"),
            f"{LADDER}.announce_stage",
        ),
        (OpenEscalationFactory, ACTIONS["resolve"], f"{RESOLUTION}.notify"),
        (ResolvedEscalationFactory, ACTIONS["reopen"], f"{RESOLUTION}.announce_stage"),
        (OpenEscalationFactory, ACTIONS["withdraw"], f"{RESOLUTION}.notify"),
    ],
)
def test_a_failure_after_the_transition_leaves_neither_the_change_nor_its_event(
    world, monkeypatch, build, act, hook
):
    esc = build()
    before = (
        esc.state,
        esc.stage_id,
        esc.revision,
        esc.events.count(),
        esc.episodes.count(),
        esc.outcomes.count(),
    )
    monkeypatch.setattr(hook, explode)
    with pytest.raises(Boom):
        act(world, esc)
    esc = Escalation.objects.get(pk=esc.pk)
    after = (
        esc.state,
        esc.stage_id,
        esc.revision,
        esc.events.count(),
        esc.episodes.count(),
        esc.outcomes.count(),
    )
    assert after == before
