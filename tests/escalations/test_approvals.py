"""escalations.approvals, the one place that says who approves, stands in and returns: the
gate comes from the stage's data, and the navigation offers the queue to exactly the people
the queue admits.

Meadow School (tests/personas.py): Alice raises, Bob is her line manager, Carol the
safeguarding lead, Dan the senior manager. Kirklees stage 2 has an approval gate: the
"Safeguarding Lead and/ or the relevant Line Manager" agree, so Carol or Bob; Dan stands in
while the school has neither.
"""

import pytest

from escalations import approvals
from escalations.models import Escalation
from policies.models import Role
from tests.factories import OpenEscalationFactory
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
    assert gate.approvers_in_words == "a safeguarding lead or line manager"
    assert gate.absence_in_words == "in the absence of a safeguarding lead or line manager"
    assert gate.everyone_in_words == "safeguarding lead, line manager or senior manager"
    assert not gate.is_stand_in(Role.SAFEGUARDING_LEAD)
    assert not gate.is_stand_in(Role.LINE_MANAGER)
    assert gate.is_stand_in(Role.SENIOR_MANAGER)


def test_the_first_stand_ins_skip_whoever_asked_and_fall_to_the_next_role():
    gate = approvals.LEAD_GATE
    people = {Role.SENIOR_MANAGER: [4, 5]}
    assert approvals.first_stand_ins(gate, people, asked_by=1) == (Role.SENIOR_MANAGER, [4, 5])
    assert approvals.first_stand_ins(gate, people, asked_by=4) == (Role.SENIOR_MANAGER, [5])
    assert approvals.first_stand_ins(gate, {Role.SENIOR_MANAGER: [4]}, asked_by=4) == ("", [])


@pytest.mark.parametrize("missing", [(), ("carol",), ("carol", "bob")])
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
    # Leads and line managers always; Meadow School's senior manager only while it has
    # neither (Dan stands in).
    expected = {"carol", "bob", "grace", "frank", "robin"} - set(missing)
    if {"carol", "bob"} <= set(missing):
        expected |= {"dan"}
    assert shown >= expected and not shown & {"alice", "erin", "ivan"}


def test_a_stand_in_decision_is_described_from_the_gate(world):
    deactivate(world, "carol", "bob")
    esc = OpenEscalationFactory()
    from escalations import services

    esc = services.escalate(esc, by=world.alice, reason="No reply.")
    esc = Escalation.objects.select_related("raising_agency", "pending_stage").get(pk=esc.pk)
    dan = world.dan
    assert approvals.decided_as(dan, esc) == Role.SENIOR_MANAGER
    assert approvals.decision_note(dan, esc, Role.SENIOR_MANAGER, "Approved") == (
        "Approved by Dan Dale, senior manager of Meadow School, in the absence of a "
        "safeguarding lead or line manager."
    )
    assert approvals.decision_note(world.carol, esc, Role.SAFEGUARDING_LEAD, "Approved") == ""
    assert approvals.decision_note(world.bob, esc, Role.LINE_MANAGER, "Approved") == ""


# --- the request and the decision as typed data -----------------------------------------------


def awaiting(world, by=None):
    from escalations import services

    return services.escalate(OpenEscalationFactory(), by=by or world.alice, reason="No reply.")


def test_a_request_put_to_a_stand_in_is_typed_and_the_page_reads_it_so(client, world):
    deactivate(world, "carol", "bob")
    esc = awaiting(world)
    assert (esc.approval_asked_as, esc.approval_asked_of, esc.approval_reason) == (
        Role.SENIOR_MANAGER,
        "its senior manager, Dan Dale",
        "No reply.",
    )
    # The history keeps the whole reason as it was written.
    request = esc.events.get(kind="approval_requested")
    assert request.reason == (
        "No reply.\n\nMeadow School has no active safeguarding lead or line manager: approval "
        "asked in the absence of a safeguarding lead or line manager of its senior manager, "
        "Dan Dale."
    )
    # The page says it from the typed fields, not from the reason's text.
    Escalation.objects.filter(pk=esc.pk).update(approval_asked_of="its senior manager, Zed Zee")
    sign_in(client, world.dan)
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "Waiting for approval to move to stage 2" in page
    assert (
        "in the absence of a safeguarding lead or line manager of its senior manager, Zed" in page
    )
    assert "“No reply.”" in page


def test_a_request_put_to_the_lead_is_typed_as_such(client, world):
    esc = awaiting(world)
    assert (esc.approval_asked_as, esc.approval_asked_of) == (
        Role.SAFEGUARDING_LEAD,
        "its safeguarding lead, Carol Cole, and its line manager, Bob Baker",
    )
    sign_in(client, world.carol)
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert (
        "Waiting for a safeguarding lead or line manager of Meadow School to approve moving to "
        "stage 2" in page
    )
    assert "in the absence of" not in page


def test_each_decision_keeps_the_role_it_was_taken_in(world):
    from escalations import services

    esc = services.approve(awaiting(world), by=world.carol)
    assert esc.approvals.get().decided_as == Role.SAFEGUARDING_LEAD
    agreed = services.approve(awaiting(world), by=world.bob)
    assert agreed.approvals.get().decided_as == Role.LINE_MANAGER
    esc = services.escalate(esc, by=world.bob, reason="Still nothing.")  # stage 3 has no gate
    deactivate(world, "carol", "bob")
    other = awaiting(world)
    other = services.return_with_comments(other, by=world.dan, comments="Call first.")
    assert other.approvals.get().decided_as == Role.SENIOR_MANAGER


def test_the_sweep_types_a_request_it_puts_to_the_stand_ins(client, world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from escalations import deadlines

    esc = awaiting(world)
    deactivate(world, "carol", "bob")
    with time_machine.travel(datetime(2026, 11, 3, 10, tzinfo=ZoneInfo("Europe/London"))):
        deadlines.sweep()
    esc.refresh_from_db()
    assert (esc.approval_asked_as, esc.approval_asked_of) == (
        Role.SENIOR_MANAGER,
        "its senior manager, Dan Dale",
    )
    sign_in(client, world.dan)
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "in the absence of a safeguarding lead or line manager of its senior manager" in page


def test_the_migration_fills_in_requests_already_waiting_from_their_reason(world, monkeypatch):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "escalations.migrations.0011_approval_request_and_decision_as_typed_data"
    )
    deactivate(world, "carol", "bob")
    # Requests waiting when the migration ran were worded as escalate() wrote them then.
    monkeypatch.setattr(
        approvals,
        "request_note",
        lambda esc: (
            "Meadow School has no active safeguarding lead: approval asked in the "
            "absence of a safeguarding lead of its senior manager, Dan Dale."
        ),
    )
    stand_in = awaiting(world)
    monkeypatch.undo()
    world.carol.user.is_active = True
    world.carol.user.save()
    lead_asked = awaiting(world)
    blank = {"approval_asked_as": "", "approval_asked_of": "", "approval_reason": ""}
    Escalation.objects.filter(pk__in=[stand_in.pk, lead_asked.pk]).update(**blank)
    migration.fill_in_waiting_requests(apps, None)
    stand_in.refresh_from_db()
    lead_asked.refresh_from_db()
    assert (stand_in.approval_asked_as, stand_in.approval_asked_of, stand_in.approval_reason) == (
        Role.SENIOR_MANAGER,
        "its senior manager, Dan Dale",
        "No reply.",
    )
    assert (lead_asked.approval_asked_as, lead_asked.approval_reason) == (
        Role.SAFEGUARDING_LEAD,
        "No reply.",
    )
