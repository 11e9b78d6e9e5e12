"""Knowing where you stand (issue 17, points 5-7 and 9): the escalation page names who must
act now, in which agency, by when; every banner says what is true; the approve page shows the
reason, the positions so far and the deadline; a refused action says what changed."""

import re

from escalations import services
from escalations.models import State
from tests.factories import AwaitingApprovalEscalationFactory, OpenEscalationFactory
from tests.helpers import sign_in


def page_of(escalation, action: str = "") -> str:
    return f"/escalations/{escalation.reference}/{action + '/' if action else ''}"


def banner_of(response) -> str:
    content = response.content.decode().split("govuk-notification-banner--success")[1]
    return content.split('banner__heading">')[1].split("</p>")[0]


def standing_of(content: str) -> str:
    return content.split("Where it stands")[1].split("</dl>")[0]


def test_an_open_escalation_names_who_must_act_now_their_agency_and_by_when(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    standing = standing_of(client.get(page_of(escalation)).content.decode())
    must_act = standing.split("Who must act now")[1]
    assert re.search(r"Erin Earl</strong>, Northfold Children&#x27;s Social Care", must_act)
    assert "Respond to the challenge" in must_act
    assert "By when" in standing
    assert "Due in" in standing or "Overdue" in standing


def test_an_escalation_awaiting_approval_names_the_approver_and_says_it_has_not_moved(
    client, world
):
    escalation = AwaitingApprovalEscalationFactory()
    sign_in(client, world.alice)
    standing = standing_of(client.get(page_of(escalation)).content.decode())
    assert "Waiting for approval to move from stage 1" in standing
    assert "It has not moved yet" in standing
    # Kirklees step 2: the safeguarding lead or the line manager may agree (issue 15).
    assert re.search(
        r"Who must act now.*Carol Cole or Bob Baker</strong>, Meadow School", standing, re.S
    )
    assert "Approve or return the request to move to stage 2" in standing


def test_escalating_into_a_gated_stage_says_it_was_sent_for_approval_not_escalated(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    response = client.post(
        page_of(escalation, "escalate"),
        {"revision": escalation.revision, "reason": "No reply in five working days."},
        follow=True,
    )
    banner = banner_of(response)
    assert "Sent for approval" in banner
    assert "stays at stage 1" in banner
    assert "Escalated" not in banner


def test_escalating_into_an_open_stage_says_where_it_now_is(client, world):
    escalation = OpenEscalationFactory()
    escalation = services.escalate(escalation, by=world.alice, reason="No reply.")
    escalation = services.approve(escalation, by=world.carol, comments="Agreed.")
    sign_in(client, world.alice)
    response = client.post(
        page_of(escalation, "escalate"),
        {"revision": escalation.revision, "reason": "Still no written reply."},
        follow=True,
    )
    assert banner_of(response).startswith("Escalated to stage 3")


def test_the_approve_page_shows_the_reason_the_positions_so_far_and_the_deadline(client, world):
    escalation = OpenEscalationFactory()
    services.record_position(
        escalation, by=world.erin, body="The threshold for a referral was not met."
    )
    escalation = services.escalate(
        escalation.pk, by=world.alice, reason="CSC has not reconsidered after new disclosures."
    )
    assert escalation.state == State.AWAITING_APPROVAL
    sign_in(client, world.carol)
    content = client.get(page_of(escalation, "approve")).content.decode()
    assert "CSC has not reconsidered after new disclosures." in content
    assert "The threshold for a referral was not met." in content
    assert escalation.details in content
    deadline = content.split("Deadline</dt>")[1].split("</dd>")[0]
    assert re.search(r"Due|Overdue", deadline)


def test_a_refused_action_on_a_withdrawn_escalation_says_what_changed_and_links_back(client, world):
    escalation = OpenEscalationFactory()
    opened_at = escalation.revision
    services.withdraw(escalation.pk, by=world.alice, reason="CSC has agreed to reconsider.")
    sign_in(client, world.alice)
    response = client.post(
        page_of(escalation, "note"),
        {
            "revision": opened_at,
            "kind": "note",
            "body": "Rang CSC.",
            "happened_on-day": "1",
            "happened_on-month": "12",
            "happened_on-year": "2026",
        },
    )
    content = response.content.decode()
    banner = content.split("What changed")[1]
    assert "is now withdrawn" in banner
    assert "Withdrawn by Alice Able" in banner
    assert "CSC has agreed to reconsider." in banner
    assert f'href="/escalations/{escalation.reference}/"' in banner
    # Nothing to submit again: the action can no longer be taken.
    assert "Save note" not in content
