import os
import shutil
from pathlib import Path

import pytest

# Browser tests use the ORM and Playwright's sync API in one thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def pytest_collection_modifyitems(config, items):
    if chromium_available():
        return
    skip = pytest.mark.skip(
        reason=f"Chromium not found at {CHROMIUM}: browser tests skipped. "
        "Install it with `sudo apt-get install chromium` (Debian/Ubuntu)."
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium, not a Playwright download (none can be fetched here). Playwright gives
    # every launch a fresh temporary user-data dir. The background-networking flags keep
    # Chromium from calling out on a closed network.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(autouse=True, scope="session")
def _patient_browser_assertions():
    """Browser assertions wait up to 15 s, not Playwright's 5: a page that renders the record
    or runs axe on a loaded 2-core CI machine can take longer without anything being wrong."""
    try:
        from playwright.sync_api import expect
    except ImportError:  # pragma: no cover - playwright is in the dev extra
        return
    expect.set_options(timeout=15_000)


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def world(db):
    """The named personas of tests/personas.py, with all five ladders loaded."""
    from tests.personas import build_world

    return build_world()


@pytest.fixture(autouse=True)
def axe_on_every_page_served(request):
    """In a browser test, every context the test opens (pytest-playwright's page, or one
    from browser.new_context, with or without JavaScript) has its pages checked by axe-core
    as served, when the test ends (tests.browser.ServedPages)."""
    if request.node.get_closest_marker("browser") is None:
        yield None
        return
    from tests.browser import ServedPages

    browser = request.getfixturevalue("browser")
    served = ServedPages()
    opened = browser.new_context

    def new_context(*args, **kwargs):
        context = opened(*args, **kwargs)
        served.watch(context)
        return context

    browser.new_context = new_context
    try:
        yield served
    finally:
        browser.new_context = opened
    if not served.pages:
        return
    checker_context = opened()
    try:
        served.assert_accessible(checker_context.new_page())
    finally:
        checker_context.close()
