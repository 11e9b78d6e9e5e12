"""The escalation page and the actions on it."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from escalations import services
from escalations.models import Escalation, State
from escalations.record.services import freeze_due_records
from tests.factories import (
    AwaitingApprovalEscalationFactory,
    DraftEscalationFactory,
    EscalationAtStageFactory,
    OpenEscalationFactory,
    ResolvedEscalationFactory,
    climb,
)
from tests.helpers import sign_in


def page_of(escalation):
    return f"/escalations/{escalation.reference}/"


def without_csrf(content: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content.decode())


def test_the_raiser_sees_the_summary_ladder_holder_and_timeline(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    response = client.get(page_of(escalation))
    content = response.content.decode()
    assert "Challenge about Poppy Testwell" in content
    assert "Stage 1: Practitioner discussion" in content
    assert re.search(r"Held by</dt>.*Alice Able, Meadow School", content)
    assert "5 working days" in content
    assert "Raised" in content
    assert "no-store" in response["Cache-Control"]


def test_reading_the_escalation_page_is_audited(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    client.get(page_of(escalation))
    entry = AuditEntry.objects.get(kind=AuditEntry.Kind.READ)
    assert entry.reference == escalation.reference
    assert entry.username == "alice"


def test_someone_elses_escalation_and_a_missing_one_get_the_same_404(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.charlie)
    forbidden = client.get(page_of(escalation))
    missing = client.get("/escalations/KIR-2026-99999/")
    assert forbidden.status_code == missing.status_code == 404
    assert without_csrf(forbidden.content) == without_csrf(missing.content)
    assert escalation.reference.encode() not in forbidden.content
    assert client.get(f"/escalations/{escalation.reference}/note/").status_code == 404


def test_another_partnership_cannot_see_it(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.mallory)
    assert client.get(page_of(escalation)).status_code == 404


def test_only_the_actions_the_person_may_take_appear(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    content = client.get(page_of(escalation)).content.decode()
    assert "Escalate to the next stage" in content
    assert "Withdraw" in content
    assert "Record your agency&#x27;s response" not in content
    assert "Approve the escalation" not in content
    sign_in(client, world.erin)
    content = client.get(page_of(escalation)).content.decode()
    assert "Record your agency&#x27;s response" in content
    assert "Escalate to the next stage" not in content
    assert "Withdraw" not in content


def test_an_action_the_person_may_not_take_is_forbidden(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.erin)
    assert client.get(page_of(escalation) + "escalate/").status_code == 403
    response = client.post(
        page_of(escalation) + "escalate/", {"revision": escalation.revision, "reason": "x"}
    )
    assert b"You cannot escalate this escalation" in response.content
    escalation.refresh_from_db()
    assert escalation.stage.number == 1


def test_escalating_says_who_it_goes_to_and_that_approval_comes_first(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    content = client.get(page_of(escalation) + "escalate/").content.decode()
    assert "Stage 2: Written confirmation" in content
    assert "must agree to this step first" in content
    assert "Carol Cole" in content


def test_escalating_needs_a_reason(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    response = client.post(
        page_of(escalation) + "escalate/", {"revision": escalation.revision, "reason": " "}
    )
    content = response.content.decode()
    assert 'href="#id_reason">Enter why you are escalating' in content


def test_a_stale_form_saves_nothing_and_keeps_what_was_typed(client, world):
    escalation = OpenEscalationFactory()
    old_revision = escalation.revision
    services.add_note(escalation, by=world.erin, body="Erin called back.")
    sign_in(client, world.alice)
    response = client.post(
        page_of(escalation) + "escalate/",
        {"revision": old_revision, "reason": "No reply after five days"},
    )
    content = response.content.decode()
    assert "changed by someone else" in content
    assert "Nothing was saved" in content
    assert "No reply after five days" in content
    escalation.refresh_from_db()
    assert escalation.state == State.OPEN and escalation.stage.number == 1
    assert f'value="{escalation.revision}"' in content


def test_a_double_submitted_action_acts_once(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    data = {"revision": escalation.revision, "reason": "No reply"}
    first = client.post(page_of(escalation) + "escalate/", data)
    second = client.post(page_of(escalation) + "escalate/", data)
    assert first.status_code == 302
    assert b"changed by someone else" in second.content
    escalation.refresh_from_db()
    assert escalation.events.filter(kind="approval_requested").count() == 1


def test_the_lead_approves_and_the_escalation_moves_on(client, world):
    escalation = AwaitingApprovalEscalationFactory()
    sign_in(client, world.carol)
    content = client.get(page_of(escalation)).content.decode()
    assert "Approve the escalation" in content
    assert "Return with comments" in content
    response = client.post(page_of(escalation) + "approve/", {"revision": escalation.revision})
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.state == State.OPEN and escalation.stage.number == 2


def test_returning_needs_comments(client, world):
    escalation = AwaitingApprovalEscalationFactory()
    sign_in(client, world.carol)
    response = client.post(page_of(escalation) + "return/", {"revision": escalation.revision})
    assert b"Enter your comments for the person who asked" in response.content


def resolve_data(escalation, **extra):
    return {
        "revision": escalation.revision,
        "category": "upheld",
        "summary": "CSC will reconsider the referral.",
        "raiser_satisfied": "yes",
        **extra,
    }


def test_resolving_records_the_outcome_and_its_actions(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    response = client.post(
        page_of(escalation) + "resolve/",
        resolve_data(
            escalation,
            **{
                "action_1_what": "Reconsider the referral",
                "action_1_owner": "Frank Ford, CSC",
                "action_1_due-day": "1",
                "action_1_due-month": "1",
                "action_1_due-year": "2099",
            },
        ),
    )
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.state == State.RESOLVED
    assert escalation.actions.get().owner_name == "Frank Ford, CSC"
    content = client.get(page_of(escalation)).content.decode()
    assert "Reconsider the referral" in content
    assert "Mark done" in content


def test_a_half_filled_action_row_is_explained(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    response = client.post(
        page_of(escalation) + "resolve/", resolve_data(escalation, action_2_what="Call back")
    )
    content = response.content.decode()
    assert "Enter who will do action 2" in content
    assert "Enter when action 2 is to be done by" in content
    assert "Call back" in content


def test_marking_an_action_done(client, world):
    escalation = ResolvedEscalationFactory()  # the joint visit still to do
    action = escalation.actions.get()
    sign_in(client, world.alice)
    response = client.post(
        f"{page_of(escalation)}actions/{action.pk}/done/", {"revision": escalation.revision}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.done_on is not None


def test_parents_not_told_needs_a_reason(client, world):
    escalation = ResolvedEscalationFactory()
    sign_in(client, world.alice)
    response = client.post(
        page_of(escalation) + "parents/", {"revision": escalation.revision, "informed": "no"}
    )
    assert b"Enter why parents or carers were not told" in response.content


def test_withdrawing_needs_a_reason_and_then_withdraws(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    response = client.post(page_of(escalation) + "withdraw/", {"revision": escalation.revision})
    assert b"Enter why the challenge is being withdrawn" in response.content
    client.post(
        page_of(escalation) + "withdraw/",
        {"revision": escalation.revision, "reason": "Resolved informally"},
    )
    escalation.refresh_from_db()
    assert escalation.state == State.WITHDRAWN


def test_the_escalation_page_links_the_record_and_lists_its_frozen_copies(
    client, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    at_stage_one = OpenEscalationFactory()
    at_stage_five = EscalationAtStageFactory(stage=5)  # Kirklees keeps the record from stage 5
    freeze_due_records()
    copy = at_stage_five.record_copies.get()
    sign_in(client, world.alice)

    before = client.get(page_of(at_stage_one)).content.decode()
    frozen = client.get(page_of(at_stage_five)).content.decode()

    assert f'href="{page_of(at_stage_one)}record.pdf"' in before
    assert "No copy has been frozen yet" in before
    assert f'href="{page_of(at_stage_five)}record.pdf"' in frozen
    assert "No copy has been frozen yet" not in frozen
    assert f'href="{copy.get_absolute_url()}">Version 1' in frozen
    assert "Stage 5" in frozen.split('id="record-copies"')[1]


def test_the_escalation_page_query_count_does_not_depend_on_other_escalations(
    client, world, django_assert_max_num_queries
):
    escalation = OpenEscalationFactory()
    services.add_note(escalation, by=world.alice, body="A note")
    sign_in(client, world.alice)
    for _ in range(3):
        OpenEscalationFactory()
    with CaptureQueriesContext(connection) as few:
        assert client.get(page_of(escalation)).status_code == 200
    for _ in range(27):
        OpenEscalationFactory()
    with CaptureQueriesContext(connection) as many:
        assert client.get(page_of(escalation)).status_code == 200
    assert len(many) == len(few)
    with django_assert_max_num_queries(15):  # the page's budget, as for a busy one below
        client.get(page_of(escalation))


def busy(world, escalation, times: int = 1) -> None:
    for i in range(times):
        services.add_note(escalation, by=world.alice, body=f"Note {i}")
        services.record_position(escalation, by=world.alice, body=f"Position {i}")
        services.record_response(escalation, by=world.erin, summary=f"Response {i}")


def test_the_escalation_page_query_count_does_not_grow_with_its_events(client, world):
    escalation = OpenEscalationFactory()
    busy(world, escalation)
    sign_in(client, world.alice)
    with CaptureQueriesContext(connection) as few:
        client.get(page_of(escalation))
    busy(world, escalation, times=10)
    with CaptureQueriesContext(connection) as many:
        client.get(page_of(escalation))
    assert len(many) == len(few)


def test_a_busy_resolved_escalation_page_stays_within_16_queries(
    client, world, django_assert_max_num_queries, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    escalation = OpenEscalationFactory()
    busy(world, escalation, times=3)
    escalation = climb(escalation, 5)  # Kirklees keeps the record from stage 5
    freeze_due_records()  # the copy kept at stage 5
    services.resolve(
        escalation,
        by=world.dan,
        category="upheld",
        summary="Agreed.",
        raiser_satisfied=True,
        actions=[services.ActionItem("Call", "Frank", date(2099, 1, 1))],
    )
    escalation.refresh_from_db()
    assert escalation.record_copies.count() == 1
    sign_in(client, world.alice)
    client.get(page_of(escalation))
    # 16: one more than before issue 15, for the agencies' child's-file confirmations.
    with django_assert_max_num_queries(16):
        page = client.get(page_of(escalation))
    for shown in ("Note 2", "Position 2", "Response 2", "Call", "Agreed."):
        assert shown in page.content.decode()


@pytest.mark.parametrize("slug", ["note", "escalate", "withdraw", "resolve", "position"])
def test_each_action_page_has_a_bounded_query_count(
    client, world, slug, django_assert_max_num_queries
):
    escalation = OpenEscalationFactory()
    sign_in(client, world.alice)
    with django_assert_max_num_queries(20):
        assert client.get(page_of(escalation) + f"{slug}/").status_code == 200


def test_drafts_of_others_never_show(client, world):
    draft = DraftEscalationFactory()
    sign_in(client, world.bob)
    assert Escalation.objects.visible_to(world.bob.user).filter(pk=draft.pk).count() == 0
