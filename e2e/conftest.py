"""Browser tests: Playwright driving Debian's Chromium against a live server.

Run with the rest of the suite; skipped when /usr/bin/chromium is missing
(CI installs it). The browser's UI language is Russian, as for our users.
"""

import os
import shutil
import tempfile

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make to set up data are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if not os.path.exists(CHROMIUM):
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="citydesk-chromium-")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="ru-RU", base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page, live_server):
    """Log ``user`` in through the real login form: ``login(user)``."""
    from portal.tests.factories import USER_PASSWORD

    def _login(user, password=USER_PASSWORD):
        page.goto("/accounts/login/")
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", password)
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        return page

    return _login


@pytest.fixture
def admin_login():
    """Sign a staff member in to the admin through the real pages: ``admin_login(page, staff, path)``.

    The staff member needs an authenticator app (``portal.tests.mfa.totp_activate``):
    the admin sends them to the site login, then to the code step, where the test
    types the code an authenticator app would show.
    """
    from portal.tests.factories import USER_PASSWORD
    from portal.tests.mfa import totp_code

    def _admin_login(page, staff, path="/admin/"):
        page.goto(path)
        page.wait_for_url("**/accounts/login/**")
        page.fill("input[name=login]", staff.email)
        page.fill("input[name=password]", USER_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url("**/accounts/2fa/authenticate/")
        page.fill("input[name=code]", totp_code())
        page.click("form button[type=submit]")
        page.wait_for_url(f"**{path}")
        return page

    return _admin_login
