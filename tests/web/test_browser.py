"""The cockpit in a real browser (Debian chromium driven by Playwright's sync API).

Scenario: log in (password, then the TOTP code), see the cockpit in Chinese with its charts drawn (canvases
with pixels), switch to English, import a statistics file with an error and read the error naming row and
field, upload the fixed file, approve it and see the new figures, change the year with the HTMX picker (the
swapped charts are drawn), print the cockpit to PDF. Every request
that leaves the loopback interface is blocked and recorded (none may be attempted); console errors (a CSP
violation, a script error) fail the test. Screenshots and the PDF go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import itertools
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pyotp
import pytest

from tests.web.browser_support import ARTIFACTS, CHROMIUM, canvas_pixels, guarded_page, platform_server
from tests.web.conftest import HAS_API, HAS_IMPORTS, seeded_database

PASSWORD = "Harbour-lights-2026"

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
    pytest.mark.skipif(not HAS_IMPORTS, reason="citycarbon.store.imports (import batches) is not installed"),
]

BAD_FILE = """year,region,variable,value,unit,price_base_year,status,source
2024,210200,gdp,9516.9,10^8 CNY,,official,统计局
2024,210200,gdp,9300,10^8 CNY,2020,official,统计局
2024,210200,gdp,7912,10^8 CNY,2015,official,统计局
2024,210200,gdp_primary,585.7,10^8 CNY,,official,统计局
2024,210200,gdp_secondary,3349,10^8 CNY,,official,统计局
2024,210200,gdp_tertiary,5582.2,10^8 CNY,,official,统计局
2024,210200,population,many,10^4 person,,official,统计局
"""
GOOD_FILE = BAD_FILE.replace(",many,", ",756.2,")


def _prepare_home(home: Path, factory: pytest.TempPathFactory) -> str:
    """Seed the store and create the admin (known password, TOTP enrolled a while ago); returns the secret."""
    from citycarbon.store import users

    _, db = seeded_database(home, factory)
    try:
        with db.session() as session:
            admin, _ = users.create_admin(session, username="office", actor="test")
            users.set_password(session, admin, PASSWORD, actor="test")
            secret = users.enroll_totp(session, admin).secret
            earlier = datetime.now(UTC) - timedelta(seconds=90)  # so the login code is a later step (no replay)
            users.confirm_totp(session, admin, pyotp.TOTP(secret).at(earlier), now=earlier)
    finally:
        db.dispose()
    return secret


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("browser-home")
    secret = _prepare_home(home, tmp_path_factory)
    with platform_server(home) as base:
        yield base, secret


def _expected_status(message) -> bool:
    """A refused login answers 401 on purpose; chromium logs every non-2xx document as a console error."""
    url = urlparse(message.location.get("url") or "")
    return url.path == "/login" and "status of 401" in message.text


def test_cockpit_scenario_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, secret = server
    marks = [("start", time.monotonic())]
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, _context, page = guarded_page(playwright, blocked, problems,
                                               expected_console=_expected_status)

        # log in: password, then the code from the authenticator
        page.goto(base + "/")
        assert "/login" in page.url
        page.fill("#username", "office")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#totp")
        page.fill("#password", PASSWORD)
        page.fill("#totp", pyotp.TOTP(secret).now())
        page.click("button[type=submit]")

        marks.append(("login", time.monotonic()))
        # the cockpit in Chinese, charts drawn
        page.wait_for_selector("h1:has-text('驾驶舱')")
        page.wait_for_selector("[data-chart='energy'][data-drawn='1'] canvas")
        assert page.locator(".target-card").count() == 14
        assert canvas_pixels(page, "[data-chart='energy']") > 1000
        assert canvas_pixels(page, "[data-chart='spark-non_fossil_share_2030']") > 100
        page.screenshot(path=str(ARTIFACTS / "cockpit-zh.png"), full_page=True)
        page.pdf(path=str(ARTIFACTS / "cockpit.pdf"), format="A4", print_background=True)
        pdf = (ARTIFACTS / "cockpit.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 50_000

        marks.append(("cockpit", time.monotonic()))
        # English
        page.click("a.lang")
        page.wait_for_selector("h1:has-text('Cockpit')")
        page.wait_for_selector("[data-chart='emissions'][data-drawn='1'] canvas")
        page.screenshot(path=str(ARTIFACTS / "cockpit-en.png"))

        page.goto(base + "/accounting?year=2024")
        intensity_row = page.locator("tr", has_text="Energy intensity of GDP").first
        before = intensity_row.locator("td").inner_text()

        marks.append(("english", time.monotonic()))
        # an import with an error: the row and the field are named
        page.goto(base + "/imports")
        bad = ARTIFACTS / "statistics-2024-bad.csv"
        bad.write_text(BAD_FILE, encoding="utf-8")
        page.set_input_files("#file", str(bad))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#import-problems")
        problem_row = page.locator("#import-problems tbody tr").first.inner_text()
        assert re.search(r"^8\s+value\s+many", problem_row), problem_row
        page.screenshot(path=str(ARTIFACTS / "import-error.png"))

        marks.append(("import-error", time.monotonic()))
        # the fixed file, approved: the figures change
        good = ARTIFACTS / "statistics-2024.csv"
        good.write_text(GOOD_FILE, encoding="utf-8")
        page.goto(base + "/imports")
        page.set_input_files("#file", str(good))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#import-preview")
        page.fill("#reason", "2024 statistical communiqué")
        page.click("#approve-form button[type=submit]")
        page.wait_for_selector("#import-approved")
        page.screenshot(path=str(ARTIFACTS / "import-approved.png"))
        page.goto(base + "/accounting?year=2024")
        after = page.locator("tr", has_text="Energy intensity of GDP").first.locator("td").inner_text()
        assert after != before, (before, after)
        page.wait_for_selector("[data-chart='acc-sector-energy'][data-drawn='1'] canvas")
        page.screenshot(path=str(ARTIFACTS / "accounting-2024-after-import.png"))
        # HTMX: the year picker swaps the content in place and the new charts are drawn
        page.select_option("#year", "2020")
        page.wait_for_url("**/accounting?year=2020*")  # the method selector adds its choices
        page.wait_for_selector("h1:has-text('2020')")
        page.wait_for_selector("[data-chart='acc-sector-energy'][data-drawn='1'] canvas")
        browser.close()
    marks.append(("approved", time.monotonic()))
    print("browser scenario timings (s):", {b[0]: round(b[1] - a[1], 1) for a, b in itertools.pairwise(marks)})
    assert blocked == [], f"requests left the machine: {blocked}"
    assert problems == [], f"console errors: {problems}"
