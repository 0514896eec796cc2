"""Real-browser tests: Playwright drives Debian's Chromium (never a downloaded browser)
against the app on pytest-django's live server. Each test leaves screenshots under
var/test-artifacts/browser/ (BROWSER_ARTIFACTS overrides) for a person to look at."""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.services import roles_setup

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(
    os.environ.get("BROWSER_ARTIFACTS")
    or Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "browser"
)
PASSWORD = "a long browser-test password"


def pytest_collection_modifyitems(config, items):
    if os.access(CHROMIUM, os.X_OK):
        return
    reason = f"no Chromium at {CHROMIUM}: `apt-get install chromium` to run the browser tests"
    if os.environ.get("REQUIRE_BROWSER") == "1":  # CI: a skipped browser test is a failure
        raise pytest.UsageError(reason)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def chromium():
    """The browser, for one module's tests. While Playwright runs, its event loop is this
    thread's, where Django would refuse the database calls the tests make; they are allowed
    for these modules only (the live server runs in threads of its own)."""
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launched(sync_playwright)
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def _launched(sync_playwright):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # As root in a sandbox, and with no network beyond loopback to call home to.
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server, request):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    shots = ARTIFACTS / re.sub(r"[^\w-]", "_", request.node.name)
    shots.mkdir(parents=True, exist_ok=True)
    count = 0

    def screenshot(name: str) -> None:
        nonlocal count
        count += 1
        page.screenshot(path=str(shots / f"{count:02d}-{name}.png"), full_page=True)

    page.screenshot_step = screenshot
    yield page
    context.close()


@pytest.fixture
def staff(transactional_db):
    """Make a staff user with a password, in a role (or a superuser), to log in as."""
    roles_setup()

    def make(username: str, role: str | None = None, superuser: bool = False):
        user = get_user_model().objects.create_user(
            username, password=PASSWORD, is_staff=True, is_superuser=superuser
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


def admin_login(page, username: str, path: str = "/admin/") -> None:
    page.goto(f"/admin/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
