"""In Chromium: the CSC's safeguarding lead makes a case-system token from the navigation,
copies it from the one page that shows it, sees the token work, and revokes it. Every page is
checked with axe-core (WCAG 2.2 A and AA)."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Page, expect

from api.models import CaseSystemToken
from tests.browser import arrived, clear_append_only_tables, screenshot, sign_in_browser

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def append_only_rows_cleared_before_flush(transactional_db):
    yield
    clear_append_only_tables()


def test_a_lead_makes_a_token_sees_it_once_and_revokes_it(page: Page, live_server, world):
    sign_in_browser(page, live_server, world.grace)
    page.get_by_role("link", name="Case systems").click()
    arrived(page, "Case-system tokens")
    page.get_by_role("button", name="Make the token").click()
    arrived(page, "Error: Case-system tokens")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter what the case system is called"
    )
    page.get_by_label("What is the system called?").fill("Mosaic (children's social care)")
    page.get_by_role("button", name="Make the token").click()
    arrived(page, "Case-system tokens")
    secret = page.locator(".portal-token").inner_text().strip()
    assert secret.startswith("epcs_")
    screenshot(page, "case-system-token-made")
    api = f"{live_server.url}/api/v1/changes/"
    headers = {"Authorization": f"Bearer {secret}"}
    assert requests.get(api, headers=headers, timeout=10).status_code == 200

    page.reload()  # shown once: not again, and no second token made
    assert secret not in page.content()
    assert CaseSystemToken.objects.count() == 1
    page.get_by_role("button", name="Revoke Mosaic (children's social care)").click()
    arrived(page, "Case-system tokens")
    expect(page.get_by_text("Revoked", exact=True)).to_be_visible()
    assert requests.get(api, headers=headers, timeout=10).status_code == 401
    assert CaseSystemToken.objects.get().revoked_by == world.grace
