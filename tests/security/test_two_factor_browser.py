import pytest
from django.conf import settings
from django.test import Client

from tests.helpers import sign_in

pytestmark = pytest.mark.browser


def test_the_set_up_page_shows_its_qr_code_under_the_strict_policy(
    live_server, page, screenshot_dir, world
):
    # Given Alice has given her password but has no authenticator app yet
    client = Client()
    sign_in(client, world.alice, second_factor=False)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.session.session_key,
                "url": live_server.url,
            }
        ]
    )
    violations = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )

    # When she opens the portal
    page.goto(live_server.url + "/")

    # Then she is asked to set up an app, and the server-drawn QR code shows with no CSP breach
    assert page.locator("h1").inner_text() == "Set up your authenticator app"
    qr = page.locator("img[alt^='QR code']")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert violations == []
    page.screenshot(path=str(screenshot_dir / "two-factor-set-up.png"), full_page=True)
