"""Kirklees step 6 reached directly from any stage, with its reason (issue 15, point 10): "In
the unlikely event that the disagreement remains unresolved by following the steps described
above and/or the discussions raise significant policy issues, the matter should be referred
urgently to the ... KSCP Business Unit Manager"."""

import pytest

from escalations import services
from escalations.models import EventKind, Notice
from escalations.services import ActionRefused
from tests.factories import EscalationAtStageFactory, OpenEscalationFactory
from tests.helpers import sign_in


def test_a_kirklees_practitioner_refers_it_straight_to_the_business_unit_with_the_reason(world):
    esc = OpenEscalationFactory()
    assert services.direct_stage(esc).number == 6
    with pytest.raises(ActionRefused, match="why it goes straight to that stage"):
        services.refer_directly(esc, by=world.alice, reason=" ")
    esc = services.refer_directly(
        esc, by=world.alice, reason="The threshold guide itself is at issue."
    )
    assert esc.stage.number == 6 and esc.holder == world.ivan
    event = esc.events.filter(kind=EventKind.ESCALATED).get()
    assert event.reason == (
        "Referred directly to stage 6 (Escalation to KSCP Business Unit Manager): "
        "The threshold guide itself is at issue."
    )
    assert Notice.objects.filter(escalation=esc, recipient=world.ivan).exists()
    assert esc.partnership_sees_record


def test_the_direct_route_is_offered_on_the_page_until_the_stage_before(client, world):
    esc = OpenEscalationFactory()
    sign_in(client, world.alice)
    page = client.get(f"/escalations/{esc.reference}/").content.decode()
    assert "Refer straight to stage 6: Escalation to KSCP Business Unit Manager" in page
    form = client.get(f"/escalations/{esc.reference}/refer-directly/").content.decode()
    assert "Why does it go straight to this stage?" in form
    assert "significant policy issues" in form  # the rule's quote
    at_five = EscalationAtStageFactory(stage=5)
    assert services.direct_stage(at_five) is None  # stage 6 is simply the next one


def test_no_other_ladder_offers_a_direct_route(world):
    berkshire = OpenEscalationFactory(
        by=world.oscar,
        child=services.ChildDetails(home_partnership=world.berkshire, given_names="Sky"),
        receiving_agency=world.constabulary,
        receiving_person=None,
    )
    assert services.direct_stage(berkshire) is None
    with pytest.raises(ActionRefused, match="no stage to refer it to directly"):
        services.refer_directly(berkshire, by=world.oscar, reason="Policy issue.")
