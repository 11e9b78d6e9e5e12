from datetime import date

import pytest

from escalations import services
from escalations.models import Escalation, Event, EventKind, Notice, NoticeKind, State
from escalations.services import ActionItem, ActionRefused, StaleEscalation
from tests.factories import OpenEscalationFactory, ResolvedEscalationFactory


def test_raising_numbers_the_challenge_and_starts_stage_one_for_the_raiser(world):
    esc = OpenEscalationFactory()
    assert esc.reference.startswith("KIR-")
    assert esc.state == State.OPEN
    assert esc.stage.number == 1
    assert esc.holder == world.alice
    assert [e.kind for e in esc.events.all()] == [EventKind.DRAFTED, EventKind.RAISED]
    # Stage 1's clock runs from the initial discussion (Mon 2 Nov 2026): 5 working days.
    assert esc.due_at.date() == date(2026, 11, 9)


def test_kirklees_written_confirmation_needs_the_safeguarding_leads_approval(world):
    esc = OpenEscalationFactory()
    esc = services.escalate(esc, by=world.alice, reason="No reply from CSC after the discussion.")
    assert esc.state == State.AWAITING_APPROVAL
    assert esc.stage.number == 1 and esc.pending_stage.number == 2
    assert Notice.objects.filter(
        escalation=esc, kind=NoticeKind.APPROVAL_NEEDED, recipient=world.carol
    ).exists()
    with pytest.raises(ActionRefused):
        services.approve(esc, by=world.alice)
    esc = services.approve(esc, by=world.carol, comments="Agreed: put it in writing.")
    assert esc.state == State.OPEN and esc.stage.number == 2


def test_return_with_comments_keeps_the_stage_and_tells_the_person_who_asked(world):
    esc = OpenEscalationFactory()
    services.escalate(esc, by=world.alice, reason="CSC has not replied.")
    esc = services.return_with_comments(
        esc, by=world.carol, comments="Speak to Erin once more first."
    )
    assert esc.state == State.OPEN and esc.stage.number == 1 and esc.pending_stage is None
    assert Notice.objects.filter(
        escalation=esc, kind=NoticeKind.RETURNED, recipient=world.alice
    ).exists()


def test_escalation_climbs_to_the_partnership_and_is_resolved_and_closed(world):
    esc = OpenEscalationFactory()
    services.escalate(esc, by=world.alice, reason="No reply.")
    services.approve(esc, by=world.carol)
    for _ in range(3):
        services.escalate(esc, by=world.bob, reason="Still unresolved.")
    esc.refresh_from_db()
    assert esc.stage.number == 5
    assert esc.partnership_sees_record
    assert Notice.objects.filter(
        escalation=esc, kind=NoticeKind.PARTNERSHIP_STAGE, recipient=world.ivan
    ).exists()
    services.escalate(esc, by=world.dan, reason="Heads of service could not agree.")
    esc.refresh_from_db()
    assert esc.stage.number == 6 and esc.holder == world.ivan
    with pytest.raises(ActionRefused):
        services.escalate(esc, by=world.ivan, reason="Further?")
    services.resolve(
        esc,
        by=world.ivan,
        category="upheld",
        summary="CSC will reassess.",
        raiser_satisfied=True,
        actions=[ActionItem(what="Reassess", owner_name="Frank Ford", due_on=date(2026, 12, 4))],
    )
    esc.refresh_from_db()
    assert esc.state == State.RESOLVED
    services.record_learning(esc, by=world.alice, learning="Share disclosures the same day.")
    services.record_debrief(
        esc, by=world.carol, summary="Joint debrief held.", held_on=date(2026, 11, 20)
    )
    esc = services.close(esc, by=world.alice)
    assert esc.state == State.CLOSED
    kinds = list(esc.events.values_list("kind", flat=True))
    assert kinds[-1] == EventKind.CLOSED
    sequences = list(esc.events.values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))


def test_reopen_only_while_actions_are_outstanding(world):
    esc = ResolvedEscalationFactory()  # one action, the joint visit, outstanding
    action = esc.actions.get()
    services.mark_action_done(action.pk, escalation=esc, by=world.erin, done_on=date(2026, 11, 20))
    with pytest.raises(ActionRefused, match="outstanding"):
        services.reopen(esc, by=world.alice, reason="Visit did not happen.")


def test_withdrawal_needs_a_reason_and_is_recorded(world):
    esc = OpenEscalationFactory()
    with pytest.raises(ActionRefused, match="why"):
        services.withdraw(esc, by=world.alice, reason="  ")
    esc = services.withdraw(esc, by=world.alice, reason="Information since shared.")
    assert esc.state == State.WITHDRAWN
    assert esc.outcomes.get().category == "withdrawn"


def test_immediate_risk_alerts_the_safeguarding_lead(world):
    esc = OpenEscalationFactory(immediate_risk=True)
    assert Notice.objects.filter(
        escalation=esc, kind=NoticeKind.IMMEDIATE_RISK, recipient=world.carol, urgent=True
    ).exists()


def test_only_berkshire_and_the_playgroup_may_start_past_stage_1(world):
    """Berkshire: "instigate all of the stages within a short period of time"; playgroup:
    "discretion should be used as to which stage is initiated". Kirklees and Pan-Cheshire
    give an emergency route instead, and Lincolnshire says escalate urgently."""
    berkshire = services.ChildDetails(home_partnership=world.berkshire, given_names="Sky")
    esc = OpenEscalationFactory(
        by=world.oscar,
        child=berkshire,
        receiving_agency=world.constabulary,
        receiving_person=None,
        immediate_risk=True,
        start_stage_number=3,
    )
    assert esc.stage.number == 3
    with pytest.raises(ActionRefused, match="immediate risk"):
        OpenEscalationFactory(
            by=world.oscar,
            child=services.ChildDetails(home_partnership=world.berkshire, given_names="Sky"),
            receiving_agency=world.constabulary,
            receiving_person=None,
            start_stage_number=3,
        )
    with pytest.raises(ActionRefused, match=r"starts every escalation at stage 1.*01484 414960"):
        services.raise_escalation(
            by=world.alice,
            child=services.ChildDetails(home_partnership=world.kirklees, given_names="Poppy"),
            raising_agency=world.school,
            receiving_agency=world.csc,
            receiving_person=None,
            pathway="referral",
            natures=["referral_decision"],
            details="CSC declined the referral despite new disclosures.",
            outcome_sought="The referral is reconsidered by a manager.",
            interim_safety="The school's DSL checks in with Poppy daily.",
            initial_discussion_on=date(2026, 11, 2),
            immediate_risk=True,
            start_stage_number=3,
        )


def test_a_stale_form_is_refused_and_changes_nothing(world):
    esc = OpenEscalationFactory()
    seen = esc.revision
    services.add_note(esc, by=world.erin, body="Called the school back.")
    with pytest.raises(StaleEscalation, match="changed by someone else"):
        services.escalate(esc, by=world.alice, reason="No reply", expected_revision=seen)
    assert Escalation.objects.get(pk=esc.pk).stage.number == 1


def test_events_can_be_neither_edited_nor_deleted(world):
    esc = OpenEscalationFactory()
    event = esc.events.first()
    event.reason = "rewritten"
    with pytest.raises(Exception, match="cannot be changed"):
        event.save()
    with pytest.raises(Exception, match="cannot be deleted"):
        event.delete()
    from django.db import transaction

    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(reason="bulk rewrite")


def test_the_one_person_voluntary_group_can_run_the_whole_process(world):
    esc = OpenEscalationFactory(by=world.robin)
    services.escalate(esc, by=world.robin, reason="No answer.")
    esc = services.approve(esc, by=world.robin)
    assert esc.stage.number == 2 and esc.holder == world.robin
