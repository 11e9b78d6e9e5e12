"""Issue 17 in Chromium: a business manager finds the dashboard by links alone, and every page
on the way (the dashboard and a table of its own) passes axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import arrived, clear_append_only_tables, sign_in_browser
from tests.factories import OpenEscalationFactory

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def append_only_rows_cleared_before_flush(transactional_db):
    yield
    clear_append_only_tables()


def follow(page: Page, name: str, title: str) -> None:
    """Follow a link by its words, as a person would, and check the page it leads to."""
    with page.expect_navigation():
        page.get_by_role("link", name=name, exact=True).first.click()
    arrived(page, title)


def test_a_business_manager_reaches_the_dashboard_from_home_by_links_only(
    page: Page, live_server, world
):
    OpenEscalationFactory()
    sign_in_browser(page, live_server, world.ivan)
    follow(page, "Dashboard", "Kirklees Safeguarding Children Partnership dashboard")
    expect(page.locator("h1")).to_contain_text("dashboard")
    nav_current = page.locator(".govuk-service-navigation__item--active")
    expect(nav_current).to_contain_text("Dashboard")
    follow(page, "By nature of difference", "By nature of difference")
    follow(page, "Back to the dashboard", "Kirklees Safeguarding Children Partnership dashboard")


def test_the_home_page_with_pagination_passes_axe(page: Page, live_server, world):
    # More challenges than one page shows: the pagination's text must keep its contrast.
    for _ in range(21):
        OpenEscalationFactory()
    sign_in_browser(page, live_server, world.alice)  # runs axe on the home page
    expect(page.locator(".govuk-pagination").first).to_contain_text("Page 1 of 2")
