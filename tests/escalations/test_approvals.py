"""escalations.approvals, the one place that says who approves, stands in and returns: the
gate comes from the stage's data, and the navigation offers the queue to exactly the people
the queue admits.

Meadow School (tests/personas.py): Alice raises, Bob is her line manager, Carol the
safeguarding lead, Dan the senior manager. Kirklees stage 2 has an approval gate.
"""

import pytest

from escalations import approvals
from escalations.models import Escalation
from policies.models import Role
from tests.helpers import sign_in

PEOPLE = ["alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "robin"]


def deactivate(world, *names: str) -> None:
    for name in names:
        user = getattr(world, name).user
        user.is_active = False
        user.save()


def test_the_gate_comes_from_the_stage_and_only_gated_stages_have_one(world):
    stages = {s.number: s for s in world.kirklees.current_ladder.stages.all()}
    assert approvals.gate_for(stages[2]) == approvals.LEAD_GATE
    assert [n for n, s in stages.items() if approvals.gate_for(s)] == [2]
    assert approvals.gate_for(None) is None
    gate = approvals.LEAD_GATE
    assert gate.approvers_in_words == "a safeguarding lead"
    assert gate.absence_in_words == "in the absence of a safeguarding lead"
    assert gate.everyone_in_words == "safeguarding lead, senior manager or line manager"
    assert not gate.is_stand_in(Role.SAFEGUARDING_LEAD)
    assert gate.is_stand_in(Role.SENIOR_MANAGER) and gate.is_stand_in(Role.LINE_MANAGER)


def test_the_first_stand_ins_skip_whoever_asked_and_fall_to_the_next_role():
    gate = approvals.LEAD_GATE
    people = {Role.SENIOR_MANAGER: [4], Role.LINE_MANAGER: [2, 7]}
    assert approvals.first_stand_ins(gate, people, asked_by=1) == (Role.SENIOR_MANAGER, [4])
    assert approvals.first_stand_ins(gate, people, asked_by=4) == (Role.LINE_MANAGER, [2, 7])
    assert approvals.first_stand_ins(gate, {Role.SENIOR_MANAGER: [4]}, asked_by=4) == ("", [])


@pytest.mark.parametrize("missing", [(), ("carol",), ("carol", "dan")])
def test_the_approvals_link_shows_for_exactly_the_people_the_queue_admits(client, world, missing):
    deactivate(world, *missing)
    shown = set()
    for name in PEOPLE:
        if name in missing:
            continue
        sign_in(client, getattr(world, name))
        link = 'href="/approvals/"' in client.get("/").content.decode()
        admitted = client.get("/approvals/").status_code == 200
        assert link == admitted, name
        if link:
            shown.add(name)
    # Leads always; Meadow School's managers only while it has no lead (they stand in).
    expected = {"carol", "grace", "robin"} - set(missing)
    if "carol" in missing:
        expected |= {"bob", "dan"} - set(missing)
    assert shown >= expected and not shown & {"alice", "erin", "ivan"}


def test_a_stand_in_decision_is_described_from_the_gate(world):
    deactivate(world, "carol")
    esc = world.raise_kirklees()
    from escalations import services

    esc = services.escalate(esc, by=world.alice, reason="No reply.")
    esc = Escalation.objects.select_related("raising_agency", "pending_stage").get(pk=esc.pk)
    dan = world.dan
    assert approvals.decided_as(dan, esc) == Role.SENIOR_MANAGER
    assert approvals.decision_note(dan, esc, Role.SENIOR_MANAGER, "Approved") == (
        "Approved by Dan Dale, senior manager of Meadow School, in the absence of a "
        "safeguarding lead."
    )
    assert approvals.decision_note(world.carol, esc, Role.SAFEGUARDING_LEAD, "Approved") == ""
