"""Who may do what, in each state (SPEC section 2), as one table.

Alice (school practitioner) raised it and holds stage 1; Erin (CSC practitioner) is challenged.
Bob, Carol and Dan oversee the school's side; Frank, Grace and Heidi the CSC's. Ivan and Judy
are Kirklees' business manager and chair, Kim its administrator. Quinn and Uma are
practitioners in the two agencies with no part in it; Vic is a school line manager whose
account is switched off."""

import pytest

from cases.models import Person
from escalations import services
from escalations.models import State
from escalations.permissions import Act, allowed_actions
from escalations.services import ActionRefused
from policies.models import Role
from tests.factories import (
    AwaitingApprovalEscalationFactory,
    ClosedEscalationFactory,
    DraftEscalationFactory,
    OpenEscalationFactory,
    ResolvedEscalationFactory,
    WithdrawnEscalationFactory,
)
from tests.personas import make_person

A = Act
RECORDING = {A.ADD_NOTE, A.MARK_ACTION_DONE, A.RECORD_PARENTS}
REFLECTING = {A.RECORD_LEARNING, A.RECORD_DEBRIEF}
RAISER = RECORDING | REFLECTING | {A.RECORD_POSITION, A.ADD_PARTICIPANT}
RAISING_MANAGER = RAISER | {A.SHARE_WITH_PARTNERSHIP}
CHALLENGED = RECORDING | {A.RECORD_POSITION, A.RECORD_RESPONSE}
CHALLENGED_MANAGER = CHALLENGED | REFLECTING | {A.SHARE_WITH_PARTNERSHIP, A.ADD_PARTICIPANT}
PARTNERSHIP_DECIDES = RECORDING | REFLECTING | {A.ADD_PARTICIPANT}
MOVE_ON = {A.ESCALATE, A.RESOLVE, A.WITHDRAW}
# Kirklees keeps "a clear record" "At all stages": both sides confirm the child's file while
# it is open too (issue 15, point 9).
FILE = {A.RECORD_CHILD_FILE}
NOTHING: set = set()

OUTSIDERS = ["kim", "charlie", "mallory", "oscar", "pat", "robin", "quinn", "uma", "vic"]
PEOPLE = [
    "alice",
    "bob",
    "carol",
    "dan",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    *OUTSIDERS,
]


def everyone_else(expected: dict) -> dict:
    return {name: expected.get(name, NOTHING) for name in PEOPLE}


MATRIX = {
    "draft": everyone_else({"alice": {A.SUBMIT, A.WITHDRAW}}),
    "open at stage 1": everyone_else(
        {
            "alice": RAISER | MOVE_ON | FILE,
            "bob": RAISING_MANAGER | MOVE_ON | FILE,
            "carol": RAISING_MANAGER | MOVE_ON | FILE,
            "dan": RAISING_MANAGER | MOVE_ON | FILE,
            "erin": CHALLENGED | FILE,
            "frank": CHALLENGED_MANAGER | FILE,
            "grace": CHALLENGED_MANAGER | FILE,
            "heidi": CHALLENGED_MANAGER | FILE,
        }
    ),
    "awaiting approval": everyone_else(
        {
            "alice": RAISER | {A.WITHDRAW} | FILE,
            # Kirklees: "Safeguarding Lead and/ or the relevant Line Manager, to agree".
            "bob": RAISING_MANAGER | {A.WITHDRAW, A.APPROVE, A.RETURN_WITH_COMMENTS} | FILE,
            "carol": RAISING_MANAGER | {A.WITHDRAW, A.APPROVE, A.RETURN_WITH_COMMENTS} | FILE,
            "dan": RAISING_MANAGER | {A.WITHDRAW} | FILE,
            "erin": CHALLENGED | FILE,
            "frank": CHALLENGED_MANAGER | FILE,
            "grace": CHALLENGED_MANAGER | FILE,
            "heidi": CHALLENGED_MANAGER | FILE,
        }
    ),
    # Kirklees asks each agency to record it on its own file for the child ("a clear record
    # ... kept by all agencies involved"): both sides confirm, resolved or closed.
    "resolved": everyone_else(
        {
            "alice": RAISER | {A.CLOSE, A.REOPEN, A.RECORD_CHILD_FILE},
            "bob": RAISING_MANAGER | {A.CLOSE, A.REOPEN, A.RECORD_CHILD_FILE},
            "carol": RAISING_MANAGER | {A.CLOSE, A.REOPEN, A.RECORD_CHILD_FILE},
            "dan": RAISING_MANAGER | {A.CLOSE, A.REOPEN, A.RECORD_CHILD_FILE},
            "erin": CHALLENGED | {A.RECORD_CHILD_FILE},
            "frank": CHALLENGED_MANAGER | {A.RECORD_CHILD_FILE},
            "grace": CHALLENGED_MANAGER | {A.RECORD_CHILD_FILE},
            "heidi": CHALLENGED_MANAGER | {A.RECORD_CHILD_FILE},
        }
    ),
    "closed": everyone_else(
        {
            name: {A.RECORD_CHILD_FILE}
            for name in ("alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi")
        }
    ),
    "withdrawn": everyone_else({}),
    # Stage 5 brings the Kirklees partnership in: its business manager and chair may decide.
    "open at the partnership stage": everyone_else(
        {
            "alice": RAISER | MOVE_ON | FILE,
            "bob": RAISING_MANAGER | MOVE_ON | FILE,
            "carol": RAISING_MANAGER | MOVE_ON | FILE,
            "dan": RAISING_MANAGER | MOVE_ON | FILE,  # Dan holds stage 5
            "erin": CHALLENGED | FILE,
            "frank": CHALLENGED_MANAGER | FILE,
            "grace": CHALLENGED_MANAGER | FILE,
            "heidi": CHALLENGED_MANAGER | FILE,
            "ivan": PARTNERSHIP_DECIDES | MOVE_ON,
            "judy": PARTNERSHIP_DECIDES | MOVE_ON,
        }
    ),
    # Shared with the partnership at stage 1: it reads and records, it does not decide.
    "shared at stage 1": everyone_else(
        {
            "alice": RAISER | MOVE_ON | FILE,
            "bob": RAISING_MANAGER | MOVE_ON | FILE,
            "carol": RAISING_MANAGER | MOVE_ON | FILE,
            "dan": RAISING_MANAGER | MOVE_ON | FILE,
            "erin": CHALLENGED | FILE,
            "frank": CHALLENGED_MANAGER | FILE,
            "grace": CHALLENGED_MANAGER | FILE,
            "heidi": CHALLENGED_MANAGER | FILE,
            "ivan": RECORDING | REFLECTING,
            "judy": RECORDING | REFLECTING,
        }
    ),
}


def shared_at_stage_1(world):
    esc = OpenEscalationFactory()
    services.share_with_partnership(esc, by=world.carol, reason="A pattern with CSC.")
    return esc


BUILD = {
    "draft": lambda world: DraftEscalationFactory(),
    "open at stage 1": lambda world: OpenEscalationFactory(),
    "open at the partnership stage": lambda world: OpenEscalationFactory(
        immediate_risk=True, start_stage_number=5
    ),
    "awaiting approval": lambda world: AwaitingApprovalEscalationFactory(),
    "resolved": lambda world: ResolvedEscalationFactory(),
    "closed": lambda world: ClosedEscalationFactory(),
    "withdrawn": lambda world: WithdrawnEscalationFactory(),
    "shared at stage 1": shared_at_stage_1,
}


def build(world, situation: str):
    return BUILD[situation](world)


@pytest.fixture
def people(world) -> dict[str, Person]:
    quinn = make_person("quinn", "Quinn Quill", (world.school, Role.PRACTITIONER))
    uma = make_person("uma", "Uma Urwin", (world.csc, Role.PRACTITIONER))
    vic = make_person("vic", "Vic Vane", (world.school, Role.LINE_MANAGER))
    vic.user.is_active = False
    vic.user.save()
    named = {name: getattr(world, name) for name in PEOPLE if hasattr(world, name)}
    return {**named, "quinn": quinn, "uma": uma, "vic": vic}


def fresh(person: Person) -> Person:
    return Person.objects.select_related("user").prefetch_related("memberships").get(pk=person.pk)


@pytest.mark.parametrize("situation", list(MATRIX))
def test_who_may_do_what_in_each_state(world, people, situation):
    esc = build(world, situation)
    esc.refresh_from_db()
    actual = {name: set(allowed_actions(fresh(people[name]), esc)) for name in PEOPLE}
    expected = {name: set(acts) for name, acts in MATRIX[situation].items()}
    wrong = {
        name: {"extra": actual[name] - expected[name], "missing": expected[name] - actual[name]}
        for name in PEOPLE
        if actual[name] != expected[name]
    }
    assert wrong == {}


def test_nobody_without_a_person_may_act(world):
    esc = build(world, "open at stage 1")
    assert allowed_actions(None, esc) == frozenset()


def test_a_person_added_to_an_escalation_may_record_on_it(world, people):
    esc = build(world, "open at stage 1")
    services.add_participant(esc, by=world.bob, person=world.charlie, reason="Health visitor.")
    esc.refresh_from_db()
    assert set(allowed_actions(fresh(world.charlie), esc)) == RECORDING
    # A practitioner of the challenged agency who is added may also give its response.
    services.add_participant(esc, by=world.frank, person=people["uma"], reason="Duty worker.")
    assert set(allowed_actions(fresh(people["uma"]), esc)) == CHALLENGED | FILE


def test_a_deactivated_safeguarding_lead_can_no_longer_approve(world):
    esc = build(world, "awaiting approval")
    world.carol.user.is_active = False
    world.carol.user.save()
    with pytest.raises(ActionRefused):
        services.approve(esc, by=fresh(world.carol))
    assert esc.__class__.objects.get(pk=esc.pk).state == State.AWAITING_APPROVAL


def test_an_uninvolved_practitioner_in_the_challenged_agency_cannot_respond(world, people):
    esc = build(world, "open at stage 1")
    with pytest.raises(ActionRefused):
        services.record_response(esc, by=fresh(people["uma"]), summary="We disagree.")
    with pytest.raises(ActionRefused):
        services.add_note(esc, by=fresh(people["quinn"]), body="Saw this in the staff room.")


def test_the_shared_constabulary_lead_acts_in_either_partnership_only_as_a_party(world):
    esc = OpenEscalationFactory(receiving_agency=world.constabulary, receiving_person=None)
    assert set(allowed_actions(fresh(world.pat), esc)) == CHALLENGED_MANAGER | FILE
    assert allowed_actions(fresh(world.pat), build(world, "open at stage 1")) == frozenset()


def test_the_one_person_voluntary_group_holds_every_role_of_its_side(world):
    esc = OpenEscalationFactory(by=world.robin)
    assert set(allowed_actions(fresh(world.robin), esc)) == RAISING_MANAGER | MOVE_ON | FILE
    services.escalate(esc, by=world.robin, reason="No answer.")
    esc.refresh_from_db()
    assert set(allowed_actions(fresh(world.robin), esc)) == RAISING_MANAGER | FILE | {
        A.WITHDRAW,
        A.APPROVE,
        A.RETURN_WITH_COMMENTS,
    }
    # Nobody at the school has any part in Robin's challenge.
    for person in (world.alice, world.bob, world.carol):
        assert allowed_actions(fresh(person), esc) == frozenset()
