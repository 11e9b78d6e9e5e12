"""An agency's lists read side by side and counted up to a cap (escalations.listing, issue 18):
the same escalations, in the same order, on every page, whatever the agency's history."""

import re
from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from escalations import listing
from escalations.models import Escalation, State
from tests.factories import (
    AwaitingApprovalEscalationFactory,
    ClosedEscalationFactory,
    OpenEscalationFactory,
    OverdueEscalationFactory,
    ResolvedEscalationFactory,
)
from tests.helpers import sign_in

ROW = re.compile(
    r'<th scope="row" class="govuk-table__header"><a class="govuk-link" href="[^"]+">([^<]+)</a>'
)


def references(html: str) -> list[str]:
    return ROW.findall(html)


@pytest.fixture
def both_sides(world):
    """Eight escalations of Meadow School: raised by it (open, due at different moments, one
    overdue, one resolved, one closed) and raised with it by children's social care. Made in
    an order unlike the list's, so that reading either side unordered would show."""
    today = timezone.localdate()
    made = {
        "closed": ClosedEscalationFactory(),
        "resolved": ResolvedEscalationFactory(),
        "today": OpenEscalationFactory(initial_discussion_on=today),
        "yesterday": OpenEscalationFactory(initial_discussion_on=today - timedelta(days=1)),
    }
    for days in (0, 2, 3):
        made[f"with school {days}"] = OpenEscalationFactory(
            by=world.erin,
            receiving_agency=world.school,
            receiving_person=world.alice,
            initial_discussion_on=today - timedelta(days=days),
        )
    made["overdue"] = OverdueEscalationFactory()
    return made


def expected_order(world) -> list[str]:
    """The agency's escalations sorted in one straightforward query."""
    return list(
        Escalation.objects.visible_to(world.carol.user)
        .exclude(state=State.DRAFT)
        .filter(Q(raising_agency=world.school) | Q(receiving_agency=world.school))
        .order_by(*listing.URGENT_FIRST)
        .values_list("reference", flat=True)
    )


def read_every_page(client, url: str) -> tuple[list[str], list[str]]:
    """(references in order across the pages, each page's html) following the Next links."""
    found, pages = [], []
    for number in range(1, 10):
        html = client.get(f"{url}{'&' if '?' in url else '?'}page={number}").content.decode()
        pages.append(html)
        found += references(html)
        if 'rel="next"' not in html:
            return found, pages
    raise AssertionError("more pages than escalations")


@pytest.mark.parametrize("size", [1, 3])
def test_the_agency_list_shows_both_sides_most_urgent_first_across_pages(
    client, world, both_sides, monkeypatch, size
):
    monkeypatch.setattr(listing, "PAGE_SIZE", size)
    sign_in(client, world.carol)
    found, pages = read_every_page(client, "/agency/escalations/")
    assert found == expected_order(world)
    assert sorted(found) == sorted(e.reference for e in both_sides.values())
    # Overdue first; the ones without a deadline (resolved, closed) last, newest first.
    assert found[0] == both_sides["overdue"].reference
    assert set(found[-2:]) == {both_sides["resolved"].reference, both_sides["closed"].reference}
    assert "8 escalations" in pages[0]
    last = -(-8 // size)
    assert f"Page 1 of {last}" in pages[0] and f"Page {last} of {last}" in pages[-1]


def test_past_a_cap_the_count_says_more_than_and_the_pages_still_follow(
    client, world, both_sides, monkeypatch
):
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    monkeypatch.setattr(listing, "PAGE_SIZE", 3)
    sign_in(client, world.carol)
    found, pages = read_every_page(client, "/agency/escalations/")
    assert found == expected_order(world)
    assert "More than 5 escalations: use the filters to narrow them down" in pages[0]
    assert "Page 1</li>" in pages[0] and " of " not in pages[0].split("Page 1")[1][:10]
    assert 'rel="prev"' in pages[-1] and 'rel="next"' not in pages[-1]
    # Narrowed below the cap, the count is exact again.
    html = client.get("/agency/escalations/?state=resolved").content.decode()
    assert "1 escalation</p>" in html
    assert references(html) == [both_sides["resolved"].reference]


def test_a_page_past_the_end_shows_the_last_page(client, world, both_sides, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 3)
    sign_in(client, world.carol)
    html = client.get("/agency/escalations/?page=99").content.decode()
    assert "Page 3 of 3" in html
    assert references(html) == expected_order(world)[6:]


def test_home_lists_the_agencys_active_escalations_and_challenges_to_it_in_order(
    client, world, both_sides, monkeypatch
):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    sign_in(client, world.carol)
    active = [
        ref
        for ref, state in Escalation.objects.filter(reference__in=expected_order(world))
        .order_by(*listing.URGENT_FIRST)
        .values_list("reference", "state")
        if state != State.CLOSED
    ]
    agency = []
    for number in range(1, 5):
        html = client.get(f"/?agency={number}").content.decode()
        agency += references(html.split("My agency's escalations")[1])
        if 'rel="next"' not in html.split("My agency's escalations")[1]:
            break
    assert agency == active
    monkeypatch.setattr(listing, "PAGE_SIZE", 20)
    challenged = references(
        client.get("/").content.decode().split("waiting for a response")[1].split("</table>")[0]
    )
    # Raised with the school by children's social care, soonest due first (oldest discussion).
    assert challenged == [
        both_sides["with school 3"].reference,
        both_sides["with school 2"].reference,
        both_sides["with school 0"].reference,
    ]


def test_a_practitioner_sees_only_the_challenges_to_their_agency_they_are_named_in(
    client, world, both_sides
):
    hidden = OpenEscalationFactory(
        by=world.erin, receiving_agency=world.school, receiving_person=world.bob
    )
    sign_in(client, world.alice)
    html = client.get("/").content.decode()
    assert hidden.reference not in html
    assert both_sides["with school 0"].reference in html


def test_the_approvals_waiting_are_counted_up_to_the_cap(client, world, monkeypatch):
    for _ in range(3):
        AwaitingApprovalEscalationFactory()
    sign_in(client, world.carol)
    assert "3 escalations waiting for your approval" in client.get("/").content.decode()
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    assert "More than 2 escalations waiting for your approval" in client.get("/").content.decode()
