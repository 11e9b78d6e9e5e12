"""Helpers for the browser journeys: sign in through the real page, check every page with
axe-core, take screenshots. One place each, so a second factor at sign-in changes one function."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8") + "\n;undefined"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
PASSWORD = "correct-horse-battery-staple"


def assert_accessible(page: Page) -> None:
    """axe-core finds no WCAG 2.2 A or AA violation on the page as it is now."""
    # The portal's CSP refuses inline scripts, so a <script> tag with axe's text would be
    # blocked; evaluating it through the DevTools protocol is not subject to the CSP.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    violations = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
    assert not violations, f"{page.url}: {json.dumps(violations, indent=2)}"


def assert_accessible_without_js(page: Page, checker: Page) -> None:
    """axe on a page opened with JavaScript switched off. Nothing can run in such a page,
    axe included, so its HTML as served (scripts taken out, so nothing enhances it) is put
    into a page that runs scripts, at the same address for its styles, and checked there."""
    assert_markup_accessible(checker, page.url, page.content())


def assert_markup_accessible(checker: Page, url: str, markup: str) -> None:
    """axe on HTML as a browser without JavaScript would show it, at `url` for its styles."""
    markup = re.sub(r"<script\b.*?</script>", "", markup, flags=re.S | re.I)
    markup = re.sub(r"<head(\s[^>]*)?>", lambda m: f'{m.group(0)}<base href="{url}">', markup, 1)
    checker.set_content(markup, wait_until="load")
    assert_accessible(checker)


# What changes from one serving of a page to the next without changing the page.
_VOLATILE = re.compile(r'(nonce|value)="[^"]*"')


class ServedPages:
    """Every HTML page served to the browser during a test, in every context it opens (with
    JavaScript or without), kept as served to be checked by axe when the test ends: so no
    page a journey passes through goes unchecked, even one it only passes on the way to the
    next (issue 17, point 17). Only documents are kept (no scripts, styles or downloads)."""

    def __init__(self) -> None:
        self.pages: dict[tuple[str, str], tuple[str, str]] = {}
        self.unread: list[str] = []

    def watch(self, context) -> None:
        context.on("response", self._served)

    def _served(self, response) -> None:
        request = response.request
        if request.resource_type != "document" or 300 <= response.status < 400:
            return
        if "text/html" not in (response.headers.get("content-type") or ""):
            return
        try:
            markup = response.body().decode("utf-8", "replace")
        except Exception as error:  # a page the browser left before its body could be read
            self.unread.append(f"{request.url}: {error}")
            return
        path = re.sub(r"^https?://[^/]+", "", request.url)
        digest = hashlib.sha256(_VOLATILE.sub("", markup).encode()).hexdigest()
        self.pages.setdefault((path, digest), (request.url, markup))

    def assert_accessible(self, checker: Page) -> list[str]:
        """Check each page served; every violation, page by page, in one failure."""
        # Let the browser's last responses be read first (their handlers run while Playwright
        # waits on something, and the test may have ended straight after a navigation).
        checker.wait_for_timeout(250)
        failures, checked = [], []
        for url, markup in list(self.pages.values()):
            checked.append(url)
            try:
                assert_markup_accessible(checker, url, markup)
            except AssertionError as error:
                # The checker's own address is not the page's: name the page served.
                failures.append(f"page served at {url}: {str(error).split(': ', 1)[-1]}")
        assert not failures, "\n".join(failures)
        assert not self.unread, f"pages served but not read for axe: {self.unread}"
        return checked


def visit(page: Page, live_server, path: str) -> None:
    page.goto(f"{live_server.url}{path}")
    assert_accessible(page)


def arrived(page: Page, title: str | re.Pattern) -> None:
    """After a navigation: the page has the title expected, and passes axe."""
    expect(page).to_have_title(
        title if isinstance(title, re.Pattern) else re.compile(re.escape(title))
    )
    assert_accessible(page)


def _backup_code(person) -> str:
    """An enrolled authenticator app and a fresh one-time backup code for the second step (a
    time-based code could not be used twice within its 30 seconds)."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.get_or_create(
        user=person.user, confirmed=True, defaults={"name": "Test app"}
    )
    device, _ = StaticDevice.objects.get_or_create(
        user=person.user, name="Backup codes", defaults={"confirmed": True}
    )
    token = StaticToken.random_token()
    StaticToken.objects.create(device=device, token=token)
    return token


def sign_in_browser(page: Page, live_server, person, *, keyboard: bool = False) -> None:
    """Sign in through the real sign-in pages, password then second step (by keyboard alone
    when asked)."""
    code = _backup_code(person)
    visit(page, live_server, "/sign-in/")
    username = person.user.get_username()
    if keyboard:
        tab_to(page, "#id_username")
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        arrived(page, "Enter your security code")
        tab_to(page, "input[name=code]")
        page.keyboard.type(code)
        page.keyboard.press("Enter")
    else:
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        arrived(page, "Enter your security code")
        page.locator("input[name=code]").fill(code)
        page.get_by_role("button", name="Continue").click()
    arrived(page, "My escalations")
    expect(page.locator(".portal-header__name")).to_have_text(person.full_name)


def sign_out_browser(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    arrived(page, "Sign in")


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def tab_to(page: Page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element matching selector has the focus."""
    target = page.locator(selector).first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def click_through(page: Page, role: str, name: str, title: str) -> None:
    """Click a link or button and check the page it leads to."""
    page.get_by_role(role, name=name, exact=True).first.click()
    arrived(page, title)


def clear_append_only_tables() -> None:
    """Empty the tables whose SQLite triggers refuse DELETE, with the triggers lifted and put
    back, so a live-server test's flush can run (PostgreSQL's flush TRUNCATEs instead)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND sql LIKE '%BEFORE DELETE%'"
        )
        triggers = cursor.fetchall()
        for name, _, _ in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        for table in {table for _, table, _ in triggers}:
            cursor.execute(f'DELETE FROM "{table}"')
        for _, _, sql in triggers:
            cursor.execute(sql)
