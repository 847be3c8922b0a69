"""Shared fixtures for the browser tests: headless Debian Chromium through Playwright, and axe.

Registered for the whole suite as a pytest plugin (``pytest_plugins`` in the root
conftest.py), so any app's tests can use the fixtures without importing them::

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

    def test_it_works(browser_page, live_server, alice):
        login(browser_page, live_server, "alice@example.jp", PASSWORD)
        assert_accessible(browser_page)

``login`` and ``assert_accessible`` are plain functions: import them from this module.
Importing the fixtures too would start a second Playwright in the same session.
"""

import os
import shutil

import pytest

# The test server listens on loopback only.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = os.environ.get("KENPO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
# The password every browser persona gets (tests.factories.UserFactory sets the same).
PASSWORD = "correct-horse-battery"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def _playwright():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("KENPO_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Chromium is required but missing at {CHROMIUM}")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django would refuse ORM calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def browser(_playwright):
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


def _new_page(browser, **options):
    """A fresh page (own cookies) in Japanese, phone-sized. The cache is the test's own
    already (the root conftest's ``_empty_cache``)."""
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo",
                                  viewport={"width": 800, "height": 1000}, **options)
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.fixture
def browser_page(browser):
    """A fresh page in Japanese, phone-sized; closed after the test."""
    context, page = _new_page(browser, accept_downloads=True)
    yield page
    context.close()


@pytest.fixture
def browser_page_without_js(browser):
    """Like ``browser_page`` with JavaScript off: every page must work without it."""
    context, page = _new_page(browser, java_script_enabled=False)
    yield page
    context.close()


def login(page, live_server, email: str, password: str = PASSWORD) -> None:
    """Log in through allauth's form; the member lands on their dashboard (or the link page)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"login failed for {email}"


def assert_accessible(page, *, impacts=("serious", "critical")) -> None:
    """No serious or critical WCAG 2.1 A/AA violation on the page, as axe-core sees it."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
    violations = [v for v in results.response["violations"] if v.get("impact") in impacts]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:3])
        for v in violations
    )
    assert not violations, f"axe found on {page.url}:\n{report}"
