"""The safeguarding lead's approval queue and the agency's escalations with filters."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalations import services
from tests.factories import (
    AwaitingApprovalEscalationFactory,
    OpenEscalationFactory,
    OverdueEscalationFactory,
)
from tests.helpers import sign_in


def test_the_approval_queue_lists_the_leads_agencys_waiting_escalations(client, world):
    escalation = AwaitingApprovalEscalationFactory()
    other = OpenEscalationFactory()
    sign_in(client, world.carol)
    content = client.get("/approvals/").content.decode()
    assert escalation.reference in content
    assert other.reference not in content
    assert "Stage 2: Written confirmation" in content


def test_the_approval_queue_is_only_for_safeguarding_leads(client, world):
    sign_in(client, world.alice)
    assert client.get("/approvals/").status_code == 403
    sign_in(client, world.grace)
    assert client.get("/approvals/").status_code == 200


def test_agency_escalations_filter_by_stage_and_state(client, world):
    first = OpenEscalationFactory()
    second = AwaitingApprovalEscalationFactory()
    sign_in(client, world.carol)
    content = client.get("/agency/escalations/?state=awaiting_approval").content.decode()
    assert second.reference in content and first.reference not in content
    content = client.get("/agency/escalations/?stage=1&state=open").content.decode()
    assert first.reference in content and second.reference not in content


def test_agency_escalations_filter_by_nature_other_agency_and_overdue(client, world):
    second = OverdueEscalationFactory()
    first = OpenEscalationFactory(
        natures=["information_sharing"], initial_discussion_on=timezone.localdate()
    )
    sign_in(client, world.carol)
    content = client.get("/agency/escalations/?nature=information_sharing").content.decode()
    assert first.reference in content and second.reference not in content
    content = client.get("/agency/escalations/?overdue=on").content.decode()
    assert second.reference in content and first.reference not in content
    content = client.get(f"/agency/escalations/?other_agency={world.csc.pk}").content.decode()
    assert first.reference in content and second.reference in content


def test_an_invalid_filter_is_explained_not_ignored(client, world):
    OpenEscalationFactory()
    sign_in(client, world.carol)
    content = client.get("/agency/escalations/?stage=99&state=nonsense").content.decode()
    assert "There is a problem" in content
    assert 'href="#id_stage">Select a stage from the list' in content
    assert 'href="#id_state">Select a status from the list' in content


def test_agency_escalations_are_for_managers_and_leads_only(client, world):
    sign_in(client, world.alice)
    assert client.get("/agency/escalations/").status_code == 403


@pytest.mark.parametrize("url", ["/approvals/", "/agency/escalations/?state=awaiting_approval"])
def test_lead_pages_query_counts_do_not_grow_with_the_number_of_escalations(
    client, world, url, django_assert_max_num_queries
):
    for _ in range(3):
        AwaitingApprovalEscalationFactory()
    sign_in(client, world.carol)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(27):
        AwaitingApprovalEscalationFactory()
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
    with django_assert_max_num_queries(20):
        client.get(url)


def test_the_stage_filter_offers_the_ladders_of_the_agencys_partnerships(
    client, world, django_assert_max_num_queries
):
    sign_in(client, world.carol)  # Meadow School: Kirklees only
    client.get("/agency/escalations/")
    # The ladders' stages cost no more queries than the fixed list of six did: 8, as before;
    # plus one for a lead's navigation, which offers conference concerns only where one of
    # their agencies' partnerships' ladders defines them (issue 17, point 3); plus one for
    # the partnership's requests for outcomes still to answer (issue 15, point 8).
    with django_assert_max_num_queries(10):
        content = client.get("/agency/escalations/").content.decode()
    assert '<option value="5">Stage 5: Escalation to Head of Service' in content
    assert '<option value="6">Stage 6: Escalation to KSCP Business Unit Manager' in content
    assert "Restorative debrief" not in content  # after resolution: no escalation is at it
    assert "<optgroup" not in content and "Dispute Procedure" not in content  # Berkshire's


def test_an_agency_in_two_partnerships_filters_by_each_ladder_labelled(client, world):
    from policies.models import Role
    from tests.personas import make_person

    constable = make_person("pc", "Pip Constable", (world.constabulary, Role.PRACTITIONER))
    in_kirklees = OpenEscalationFactory(by=constable)
    in_berkshire = OpenEscalationFactory(
        by=constable,
        child=services.ChildDetails(
            home_partnership=world.berkshire,
            given_names="Rowan",
            family_name="Testwell",
            date_of_birth=date(2018, 1, 5),
            address="2 Invented Row, Nowhere",
        ),
        receiving_agency=world.berkshire_school,
        receiving_person=world.oscar,
    )
    assert in_berkshire.partnership == world.berkshire
    sign_in(client, world.pat)  # the Shared Constabulary's lead: Kirklees and Berkshire
    content = client.get("/agency/escalations/").content.decode()
    berkshire = content.index(f'<optgroup label="{world.berkshire.name}">')
    kirklees = content.index(f'<optgroup label="{world.kirklees.name}">')
    assert '<option value="berkshire-2">Stage 2: Dispute Procedure</option>' in content
    assert '<option value="kirklees-2">Stage 2: Written confirmation</option>' in content
    assert "berkshire-6" not in content and "kirklees-6" in content  # Berkshire has five
    assert berkshire < content.index("berkshire-1") < kirklees < content.index("kirklees-1")

    content = client.get("/agency/escalations/?stage=berkshire-1").content.decode()
    assert in_berkshire.reference in content and in_kirklees.reference not in content
    assert '<option value="berkshire-1" selected>' in content
    content = client.get("/agency/escalations/?stage=kirklees-1").content.decode()
    assert in_kirklees.reference in content and in_berkshire.reference not in content
    content = client.get("/agency/escalations/?stage=1").content.decode()
    assert 'href="#id_stage">Select a stage from the list' in content
