"""Approval when the raising agency has no active approver. Kirklees stage 2 is agreed by
"the challenging agency's Safeguarding Lead and/ or the relevant Line Manager"; while the
agency has neither (besides whoever asked), its senior manager decides in their absence.

Meadow School: Alice (practitioner) raises it, Bob is her line manager, Carol the safeguarding
lead, Dan the headteacher (senior manager). Carol and Bob leaving (their accounts
deactivated) is what leaves the school without an approver.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Person
from escalations import deadlines, services
from escalations.models import Escalation, EventKind, Notice, NoticeKind, State
from escalations.notifications import notice_summary
from escalations.permissions import Act, allowed_actions
from escalations.services import ActionRefused
from policies.models import Role
from tests.factories import AwaitingApprovalEscalationFactory, OpenEscalationFactory
from tests.helpers import sign_in
from tests.personas import make_person

ASKED = NoticeKind.APPROVAL_NEEDED_NO_LEAD
DECIDES = {Act.APPROVE, Act.RETURN_WITH_COMMENTS}


def deactivate(*people: Person) -> None:
    for person in people:
        person.user.is_active = False
        person.user.save()


def fresh(person: Person) -> Person:
    return Person.objects.select_related("user").prefetch_related("memberships").get(pk=person.pk)


def load(esc: Escalation) -> Escalation:
    # With its partnership, as the pages and acting_on load it: whether the child's file is
    # confirmed at every stage is the partnership's (issue 15, point 9).
    return Escalation.objects.select_related(
        "stage", "ladder", "raising_agency", "partnership"
    ).get(pk=esc.pk)


def may_decide(person: Person, esc: Escalation) -> bool:
    """Asked both ways: reading who is present with a query of its own (the services), and
    from the annotations the escalation page reads with the escalation."""
    queried = allowed_actions(fresh(person), load(esc)) >= DECIDES
    annotated = Escalation.objects.with_approvers_present().select_related("stage").get(pk=esc.pk)
    assert (allowed_actions(fresh(person), annotated) >= DECIDES) == queried
    return queried


def asked(esc: Escalation, kind=ASKED) -> list[str]:
    return sorted(
        Notice.objects.filter(escalation=esc, kind=kind).values_list(
            "recipient__user__username", flat=True
        )
    )


def test_without_a_lead_the_senior_manager_is_asked_and_approves_in_the_leads_absence(world):
    deactivate(world.carol, world.bob)
    esc = services.escalate(OpenEscalationFactory(), by=world.alice, reason="No reply from CSC.")
    assert esc.state == State.AWAITING_APPROVAL
    assert asked(esc) == ["dan"]
    assert asked(esc, NoticeKind.APPROVAL_NEEDED) == []
    notice = Notice.objects.get(escalation=esc, kind=ASKED)
    assert "in the absence of a safeguarding lead" in notice_summary(notice)["guidance"]
    request = esc.events.get(kind=EventKind.APPROVAL_REQUESTED)
    assert request.reason.startswith("No reply from CSC.")
    assert "Meadow School has no active safeguarding lead" in request.reason
    assert (
        "in the absence of a safeguarding lead or line manager of its senior manager, Dan Dale"
        in request.reason
    )
    assert may_decide(world.dan, esc)
    assert not may_decide(world.alice, esc)
    esc = services.approve(esc, by=fresh(world.dan), comments="Agreed: put it in writing.")
    assert (esc.state, esc.stage.number) == (State.OPEN, 2)
    approved = esc.events.get(kind=EventKind.APPROVED)
    assert approved.reason == (
        "Agreed: put it in writing.\n\nApproved by Dan Dale, senior manager of Meadow School, "
        "in the absence of a safeguarding lead or line manager."
    )
    assert esc.approvals.get().decided_by == world.dan


def test_the_line_manager_agrees_as_well_as_the_lead(world):
    """Kirklees: "escalated to the challenging agency's Safeguarding Lead and/ or the relevant
    Line Manager, to agree and record": both are asked, either decides, nobody stands in."""
    esc = AwaitingApprovalEscalationFactory()
    assert asked(esc, NoticeKind.APPROVAL_NEEDED) == ["bob", "carol"]
    assert asked(esc) == []
    assert may_decide(world.bob, esc) and may_decide(world.carol, esc)
    assert not may_decide(world.dan, esc)
    deactivate(world.carol)
    assert may_decide(world.bob, esc) and not may_decide(world.dan, esc)
    esc = services.return_with_comments(esc, by=fresh(world.bob), comments="Call CSC first.")
    assert esc.state == State.OPEN
    returned = esc.events.get(kind=EventKind.RETURNED)
    assert returned.reason == "Call CSC first."


def test_whoever_asked_never_approves_their_own_request(world):
    deactivate(world.carol)
    # Bob, the only line manager left, asks: he is an approver, but not of his own request,
    # so the senior manager is asked instead.
    esc = AwaitingApprovalEscalationFactory(asked_by=world.bob)
    assert asked(esc) == ["dan"]
    assert not may_decide(world.bob, esc)
    assert may_decide(world.dan, esc)
    with pytest.raises(ActionRefused):
        services.approve(esc, by=fresh(world.bob))
    assert Escalation.objects.get(pk=esc.pk).state == State.AWAITING_APPROVAL


def test_a_lead_added_later_takes_the_decision_over(world):
    deactivate(world.carol, world.bob)
    esc = AwaitingApprovalEscalationFactory()
    assert may_decide(world.dan, esc)
    nell = make_person("nell", "Nell Nash", (world.school, Role.SAFEGUARDING_LEAD, "New DSL"))
    assert not may_decide(world.dan, esc)
    with pytest.raises(ActionRefused):
        services.approve(esc, by=fresh(world.dan))
    assert Escalation.objects.get(pk=esc.pk).state == State.AWAITING_APPROVAL
    assert may_decide(nell, esc)
    services.approve(esc, by=fresh(nell))
    assert esc.events.get(kind=EventKind.APPROVED).reason == ""


def test_with_nobody_to_approve_the_escalate_is_refused_and_nothing_changes(world):
    deactivate(world.carol, world.dan, world.bob)
    esc = OpenEscalationFactory()
    before = Escalation.objects.get(pk=esc.pk)
    notices = Notice.objects.count()
    with pytest.raises(ActionRefused) as refused:
        services.escalate(esc, by=fresh(world.alice), reason="No reply from CSC.")
    message = str(refused.value)
    assert (
        "Meadow School has no active safeguarding lead, line manager or senior manager" in message
    )
    assert "Contact Ivan Ives, the business manager of Kirklees" in message
    assert "Nothing was changed" in message
    after = Escalation.objects.get(pk=esc.pk)
    assert (after.state, after.stage_id, after.pending_stage_id, after.revision) == (
        before.state,
        before.stage_id,
        None,
        before.revision,
    )
    assert after.event_count == before.event_count == esc.events.count()
    assert after.approval_requested_by_id is None
    assert Notice.objects.count() == notices


def test_a_stand_in_who_is_the_only_one_left_is_told_nobody_else_can_approve(world):
    deactivate(world.carol, world.bob)
    esc = OpenEscalationFactory()
    with pytest.raises(ActionRefused, match="senior manager in the portal other than you"):
        services.escalate(esc, by=fresh(world.dan), reason="No reply from CSC.")
    assert Escalation.objects.get(pk=esc.pk).state == State.OPEN


def test_an_approver_who_is_the_only_one_left_agrees_their_own_request(world):
    """The one-person group: "the designated/named safeguarding professional may be the same
    worker as the professional identifying the concern" (Pan-Cheshire)."""
    deactivate(world.carol, world.dan)
    esc = services.escalate(OpenEscalationFactory(), by=fresh(world.bob), reason="No reply.")
    assert may_decide(world.bob, esc)
    esc = services.approve(esc, by=fresh(world.bob))
    assert esc.stage.number == 2


@pytest.mark.parametrize(
    ("missing", "asker"),
    [
        ((), "alice"),
        (("carol",), "alice"),
        (("carol", "bob"), "alice"),
        (("carol",), "dan"),
        (("carol",), "bob"),
        (("carol", "dan"), "bob"),
    ],
)
def test_who_may_approve_who_is_asked_and_whose_queue_lists_it_agree(world, missing, asker):
    """The three places the rule lives (the permission, the queue's SQL, escalate's notices)
    give the same people, whoever is missing and whoever asked."""
    if missing == ("carol", "dan") and asker == "bob":
        make_person("kay", "Kay Kerr", (world.school, Role.LINE_MANAGER, "Assistant Head"))
    deactivate(*(getattr(world, name) for name in missing))
    esc = AwaitingApprovalEscalationFactory(asked_by=getattr(world, asker))
    told = set(asked(esc) + asked(esc, NoticeKind.APPROVAL_NEEDED))
    everyone = ["alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan"]
    assert told
    for name in everyone + (["kay"] if "kay" in told else []):
        person = fresh(getattr(world, name, None) or Person.objects.get(user__username=name))
        if not person.user.is_active:
            continue
        queued = Escalation.objects.awaiting_approval_of(person).filter(pk=esc.pk).exists()
        assert may_decide(person, esc) == queued == (name in told), name


def test_approving_in_the_leads_absence_costs_at_most_one_query(world, django_assert_num_queries):
    deactivate(world.carol)
    esc = load(AwaitingApprovalEscalationFactory())
    people = {name: fresh(getattr(world, name)) for name in ("alice", "bob", "dan", "erin")}
    # Only a stand-in of the raising agency (not an approver), while it awaits approval.
    for name, queries in {"alice": 0, "erin": 0, "bob": 0, "dan": 1}.items():
        with django_assert_num_queries(queries):
            allowed_actions(people[name], esc, participant=False)
    # Nothing extra while it is open: the manager costs what the practitioner costs.
    opened = load(OpenEscalationFactory())
    with CaptureQueriesContext(connection) as practitioner:
        allowed_actions(people["alice"], opened, participant=False)
    with django_assert_num_queries(len(practitioner)):
        allowed_actions(people["dan"], opened, participant=False)


# --- the deactivation of the last lead while escalations wait --------------------------------


def sweep_now() -> None:
    with time_machine.travel(datetime(2026, 11, 3, 10, tzinfo=ZoneInfo("Europe/London"))):
        deadlines.sweep()


def test_the_sweep_tells_the_stand_in_when_the_last_lead_leaves_after_the_request(world):
    esc = AwaitingApprovalEscalationFactory()
    assert asked(esc, NoticeKind.APPROVAL_NEEDED) == ["bob", "carol"]
    sweep_now()
    assert asked(esc) == []  # the approvers are still there: nobody else is asked
    deactivate(world.carol, world.bob)
    assert may_decide(world.dan, esc)  # reachable at once; the sweep makes sure he hears
    sweep_now()
    assert asked(esc) == ["dan"]
    sweep_now()
    assert Notice.objects.filter(escalation=esc, kind=ASKED).count() == 1
    services.approve(esc, by=fresh(world.dan))
    assert Escalation.objects.get(pk=esc.pk).state == State.OPEN


def test_the_sweep_does_not_repeat_a_request_already_put_to_the_stand_in(world):
    deactivate(world.carol, world.bob)
    esc = AwaitingApprovalEscalationFactory()
    other = OpenEscalationFactory()
    sweep_now()
    assert Notice.objects.filter(escalation=esc, kind=ASKED).count() == 1
    assert asked(other) == []


# --- the pages -------------------------------------------------------------------------------


def test_the_approvals_page_lists_it_for_the_manager_standing_in(client, world):
    deactivate(world.carol, world.bob)
    esc = AwaitingApprovalEscalationFactory()
    other = OpenEscalationFactory()
    sign_in(client, world.dan)
    response = client.get("/approvals/")
    assert response.status_code == 200
    content = response.content.decode()
    assert esc.reference in content and other.reference not in content
    # Another agency's line manager has a queue, without this one in it; a practitioner none.
    sign_in(client, world.frank)
    assert esc.reference not in client.get("/approvals/").content.decode()
    sign_in(client, world.alice)
    assert client.get("/approvals/").status_code == 403


def test_the_home_page_counts_it_for_the_manager_standing_in(client, world):
    deactivate(world.carol, world.bob)
    AwaitingApprovalEscalationFactory()
    sign_in(client, world.dan)
    assert b"1 escalation waiting for your approval" in client.get("/").content
    sign_in(client, world.frank)
    assert b"waiting for your approval" not in client.get("/").content


def test_the_escalation_page_offers_the_stand_in_the_decision_and_says_why(client, world):
    deactivate(world.carol, world.bob)
    esc = AwaitingApprovalEscalationFactory()
    sign_in(client, world.dan)
    content = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "Approve the escalation" in content
    assert "Waiting for approval to move to stage 2" in content
    assert (
        "in the absence of a safeguarding lead or line manager of its senior manager, Dan Dale"
        in content
    )
    sign_in(client, world.alice)
    assert (
        "Approve the escalation"
        not in client.get(f"/escalations/{esc.reference}/").content.decode()
    )


def test_the_escalate_page_says_who_will_approve_or_that_nobody_can(client, world):
    deactivate(world.carol, world.bob)
    esc = OpenEscalationFactory()
    sign_in(client, world.alice)
    content = client.get(f"/escalations/{esc.reference}/escalate/").content.decode()
    assert "its senior manager, Dan Dale, will be asked to approve it in their absence" in content
    deactivate(world.dan)
    content = client.get(f"/escalations/{esc.reference}/escalate/").content.decode()
    assert "Contact Ivan Ives, the business manager of Kirklees" in content
    response = client.post(
        f"/escalations/{esc.reference}/escalate/",
        {"revision": Escalation.objects.get(pk=esc.pk).revision, "reason": "No reply."},
    )
    assert response.status_code == 200
    assert "Nothing was changed" in response.content.decode()
    assert Escalation.objects.get(pk=esc.pk).state == State.OPEN


@pytest.mark.parametrize(
    ("url", "budget"),
    [("/approvals/", 20), ("/", 25), ("escalation", 15)],
)
def test_the_stand_ins_pages_stay_within_their_query_budgets(
    client, world, url, budget, django_assert_max_num_queries
):
    deactivate(world.carol, world.bob)
    latest = [AwaitingApprovalEscalationFactory() for _ in range(3)][-1]
    path = f"/escalations/{latest.reference}/" if url == "escalation" else url
    sign_in(client, world.dan)
    with CaptureQueriesContext(connection) as few:
        assert client.get(path).status_code == 200
    for _ in range(12):
        AwaitingApprovalEscalationFactory()
    with CaptureQueriesContext(connection) as many:
        client.get(path)
    assert len(many) == len(few)
    with django_assert_max_num_queries(budget):
        client.get(path)
