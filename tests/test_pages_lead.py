"""The safeguarding lead's approval queue and the agency's escalations with filters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations import services
from escalations.models import Escalation
from tests.helpers import sign_in


def awaiting(world):
    escalation = world.raise_kirklees()
    services.escalate(escalation, by=world.alice, reason="No reply")
    return escalation


def test_the_approval_queue_lists_the_leads_agencys_waiting_escalations(client, world):
    escalation = awaiting(world)
    other = world.raise_kirklees()
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
    first = world.raise_kirklees()
    second = awaiting(world)
    sign_in(client, world.carol)
    content = client.get("/agency/escalations/?state=awaiting_approval").content.decode()
    assert second.reference in content and first.reference not in content
    content = client.get("/agency/escalations/?stage=1&state=open").content.decode()
    assert first.reference in content and second.reference not in content


def test_agency_escalations_filter_by_nature_other_agency_and_overdue(client, world):
    first = world.raise_kirklees(natures=["information_sharing"])
    second = world.raise_kirklees()
    Escalation.objects.filter(pk=second.pk).update(overdue=True)
    sign_in(client, world.carol)
    content = client.get("/agency/escalations/?nature=information_sharing").content.decode()
    assert first.reference in content and second.reference not in content
    content = client.get("/agency/escalations/?overdue=on").content.decode()
    assert second.reference in content and first.reference not in content
    content = client.get(f"/agency/escalations/?other_agency={world.csc.pk}").content.decode()
    assert first.reference in content and second.reference in content


def test_an_invalid_filter_is_explained_not_ignored(client, world):
    world.raise_kirklees()
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
        awaiting(world)
    sign_in(client, world.carol)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(27):
        awaiting(world)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
    with django_assert_max_num_queries(20):
        client.get(url)
