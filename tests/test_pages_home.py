"""My escalations: held, raised, the agency's, drafts; due moments in words."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import (
    AwaitingApprovalEscalationFactory,
    EscalationAtStageFactory,
    OpenEscalationFactory,
    OverdueEscalationFactory,
)
from tests.helpers import sign_in


def test_home_lists_what_i_hold_most_urgent_first_with_overdue_marked(client, world):
    later = OpenEscalationFactory(initial_discussion_on=timezone.localdate())
    overdue = OverdueEscalationFactory()
    sign_in(client, world.alice)
    content = client.get("/").content.decode()
    held = content.split("What I hold")[1].split("</table>")[0]
    assert held.index(overdue.reference) < held.index(later.reference)
    assert "govuk-tag--red" in held
    assert "Overdue" in held
    assert "overdue by" in held.lower()


def test_due_moments_show_in_words_and_as_dates(client, world):
    escalation = OpenEscalationFactory(initial_discussion_on=timezone.localdate())
    sign_in(client, world.alice)
    content = client.get("/").content.decode()
    assert "Due in 5 working days" in content
    assert f"{escalation.due_at.astimezone(timezone.get_current_timezone()):%B}" in content


def test_what_i_raised_is_listed_even_when_someone_else_holds_it(client, world):
    escalation = EscalationAtStageFactory(stage=3)
    assert escalation.holder == world.bob
    sign_in(client, world.alice)
    content = client.get("/").content.decode()
    assert escalation.reference in content.split("Challenges I raised")[1]


def test_a_manager_sees_the_agencys_escalations_and_a_practitioner_does_not(client, world):
    escalation = OpenEscalationFactory()
    sign_in(client, world.bob)
    content = client.get("/").content.decode()
    assert "My agency's escalations" in content
    assert escalation.reference in content
    sign_in(client, world.charlie)
    content = client.get("/").content.decode()
    assert "My agency's escalations" not in content
    assert escalation.reference not in content


def test_a_lead_is_told_of_escalations_waiting_for_approval(client, world):
    AwaitingApprovalEscalationFactory()
    sign_in(client, world.carol)
    assert b"1 escalation waiting for your approval" in client.get("/").content


def home_queries(client, person) -> int:
    sign_in(client, person)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


@pytest.mark.parametrize("person", ["alice", "carol"])
def test_the_home_page_query_count_does_not_grow_with_the_number_of_escalations(
    client, world, person, django_assert_max_num_queries
):
    for _ in range(3):
        OpenEscalationFactory()
    few = home_queries(client, getattr(world, person))
    for _ in range(27):
        OpenEscalationFactory()
    many = home_queries(client, getattr(world, person))
    assert many == few
    sign_in(client, getattr(world, person))
    with django_assert_max_num_queries(25):
        client.get("/")


def test_the_page_count_in_pagination_is_plain_text_not_a_dark_current_box(client, world):
    for _ in range(21):
        OpenEscalationFactory()
    sign_in(client, world.alice)
    content = client.get("/").content.decode()
    pagination = content.split('class="govuk-pagination"')[1].split("</nav>")[0]
    assert "Page 1 of 2" in pagination
    # The current-page box is dark blue; black body text on it was 3.2:1 (axe colour-contrast).
    assert "govuk-pagination__item--current" not in pagination
