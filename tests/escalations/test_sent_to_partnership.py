"""Outcomes, learning and gaps in policy go to the partnership where its policy says (issue
15, point 8), as a notice to its business manager and on its dashboard, and nowhere else."""

from django.test import Client

from escalations import services
from escalations.dashboards import queries
from escalations.models import Escalation, Notice, NoticeKind
from escalations.notices.summary import notice_summary
from tests.factories import (
    EscalationAtStageFactory,
    OpenEscalationFactory,
    ResolvedEscalationFactory,
)
from tests.helpers import sign_in

OUTCOME = NoticeKind.OUTCOME_TO_PARTNERSHIP
LEARNING = NoticeKind.LEARNING_TO_PARTNERSHIP


def told(esc, kind) -> list[str]:
    return sorted(
        Notice.objects.filter(escalation=esc, kind=kind).values_list(
            "recipient__user__username", flat=True
        )
    )


def berkshire(world, stage: int, **more):
    """Oscar's challenge (Berkshire School) to the Shared Constabulary, at `stage`."""
    fields = {
        "by": world.oscar,
        "child": services.ChildDetails(home_partnership=world.berkshire, given_names="Sky"),
        "receiving_agency": world.constabulary,
        "receiving_person": None,
        "stage": stage,
    }
    return (
        EscalationAtStageFactory(**fields | more)
        if stage > 1
        else OpenEscalationFactory(**{k: v for k, v in fields.items() if k != "stage"} | more)
    )


def resolve(esc):
    return services.resolve(
        esc,
        by=esc.holder,
        category="upheld",
        summary="The outcome is shared with school.",
        raiser_satisfied=True,
        actions=[],
    )


def test_a_berkshire_outcome_from_stage_4_is_forwarded_to_the_partners(world):
    """ "Decisions and Actions must be recorded and from Stage 4 onwards forwarded to the
    Local Statutory Safeguarding Children Partners"."""
    at_four = resolve(berkshire(world, 4))
    assert told(at_four, OUTCOME) == ["mallory"]
    early = resolve(berkshire(world, 1))
    assert told(early, OUTCOME) == []


def test_kirklees_resolutions_send_no_outcome_notice_but_its_learning_goes_to_the_unit(world):
    """Kirklees: "records of any learning should be shared with the KSCP Business unit"."""
    esc = ResolvedEscalationFactory()
    assert told(esc, OUTCOME) == []
    services.record_learning(
        esc, by=world.alice, learning="Share new disclosures the same day.", policy_gap=""
    )
    assert told(esc, LEARNING) == ["ivan"]
    # Ivan reads the words on the dashboard, though the record stays the agencies' own.
    rows = queries.learning_and_gaps(Escalation.objects.all(), world.ivan.user)
    assert [r["learning_text"] for r in rows] == ["Share new disclosures the same day."]
    assert rows[0]["shown_reference"] == ""
    # His notice links to that page of the dashboard, which opens for him, and never to the
    # escalation, which is not his to open (SPEC section 3).
    notice = Notice.objects.get(escalation=esc, kind=LEARNING)
    summary = notice_summary(notice)
    assert summary["path"] == f"/partnerships/{esc.partnership.slug}/dashboard/learning/"
    assert esc.reference not in str(summary)
    client = Client()
    sign_in(client, world.ivan)
    assert client.get(summary["path"]).status_code == 200
    assert client.get("/notifications/").content.decode().count(summary["path"]) >= 1


def test_berkshire_sends_gaps_in_policy_but_not_learning(world):
    """Berkshire: gaps "must be brought to the attention of the Local Statutory Safeguarding
    Children Partners"; it says nothing of sending learning."""
    esc = resolve(berkshire(world, 1))
    services.record_learning(esc, by=world.oscar, learning="Ask police for outcomes.")
    assert told(esc, LEARNING) == []
    services.record_learning(
        esc,
        by=world.oscar,
        learning="Ask police for outcomes.",
        policy_gap="No route for sharing strategy outcomes with schools.",
    )
    assert told(esc, LEARNING) == ["mallory"]
    row = queries.learning_and_gaps(Escalation.objects.all(), world.mallory.user)[0]
    assert row["policy_gap_text"] == "No route for sharing strategy outcomes with schools."
    assert row["learning_text"] == ""
