"""Issue 17 in Chromium: a business manager finds the dashboard by links alone, and every page
on the way (the dashboard and a table of its own) passes axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import (
    arrived,
    assert_accessible_without_js,
    clear_append_only_tables,
    sign_in_browser,
)
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


def test_pages_reached_without_javascript_pass_axe(browser, page: Page, live_server, world):
    # Given Alice, signed in, and more challenges than one page of home shows
    for _ in range(21):
        OpenEscalationFactory()
    sign_in_browser(page, live_server, world.alice)
    no_js = browser.new_context(java_script_enabled=False)
    try:
        no_js.add_cookies(page.context.cookies())
        plain = no_js.new_page()
        # When she walks through the portal with JavaScript switched off
        plain.goto(f"{live_server.url}/")
        expect(plain.locator(".govuk-pagination").first).to_contain_text("Page 1 of 2")
        assert_accessible_without_js(plain, page)
        with plain.expect_navigation():
            plain.locator("a[href='/raise/']").first.click()
        assert_accessible_without_js(plain, page)
        with plain.expect_navigation():
            plain.get_by_role("button", name="Start now").click()
        plain.get_by_role("radio", name="No").check()
        assert_accessible_without_js(plain, page)
        # Then "Save and come back later" works without scripts, and its page passes axe
        with plain.expect_navigation():
            plain.get_by_role("button", name="Save and come back later").click()
        expect(plain.locator("h1")).to_contain_text("Your answers have been saved")
        assert_accessible_without_js(plain, page)
    finally:
        no_js.close()


def test_the_no_javascript_check_finds_a_violation_when_there_is_one(browser, page: Page):
    # The checker is itself checked: grey on grey, and an image with no alternative text.
    no_js = browser.new_context(java_script_enabled=False)
    try:
        plain = no_js.new_page()
        plain.set_content(
            '<html lang="en"><head><title>Bad</title></head><body><main><h1>Bad</h1>'
            '<p style="color:#999;background:#aaa">Faint words</p><img src="x.png"></main>'
            "</body></html>"
        )
        with pytest.raises(AssertionError, match="color-contrast"):
            assert_accessible_without_js(plain, page)
    finally:
        no_js.close()


def test_every_page_served_in_a_browser_test_is_kept_for_axe_with_or_without_javascript(
    browser, page: Page, live_server, world, axe_on_every_page_served
):
    # Given Alice signed in, and a second context with JavaScript switched off
    escalation = OpenEscalationFactory()
    sign_in_browser(page, live_server, world.alice)
    no_js = browser.new_context(java_script_enabled=False)
    try:
        no_js.add_cookies(page.context.cookies())
        plain = no_js.new_page()
        # When she opens pages in both, without any explicit axe check in the test
        plain.goto(f"{live_server.url}/escalations/{escalation.reference}/withdraw/")
        expect(plain.locator("h1")).to_contain_text("Why are you withdrawing")
        page.goto(f"{live_server.url}/directory/")
        expect(page.locator("h1")).to_have_text("Directory")
        page.wait_for_timeout(250)  # the response handlers run while Playwright waits
    finally:
        no_js.close()
    # Then every page served is kept to be checked when the test ends, redirects excepted
    served = {path for path, _ in axe_on_every_page_served.pages}
    assert {
        "/sign-in/",
        "/account/two-factor/verify/?next=%2F",
        "/",
        f"/escalations/{escalation.reference}/withdraw/",
        "/directory/",
    } <= served
    # And a violation in any of them fails the test, naming the page
    axe_on_every_page_served.pages[("/bad/", "x")] = (
        f"{live_server.url}/bad/",
        '<html lang="en"><head><title>Bad</title></head><body><main><h1>Bad</h1>'
        '<img src="x.png"></main></body></html>',
    )
    try:
        with pytest.raises(AssertionError, match=r"(?s)/bad/: .*image-alt"):
            axe_on_every_page_served.assert_accessible(page)
    finally:
        del axe_on_every_page_served.pages[("/bad/", "x")]
