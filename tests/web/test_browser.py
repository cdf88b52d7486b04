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
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pyotp
import pytest

from tests.web.conftest import HAS_API, HAS_IMPORTS, seeded_database

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "Harbour-lights-2026"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    port = _free_port()
    env = {**os.environ, "CITYCARBON_HOME": str(home), "CITYCARBON_COOKIE_SECURE": "0"}
    code = ("import uvicorn; from citycarbon.api.app import create_app; "
            f"uvicorn.run(create_app(prepare=False), host='127.0.0.1', port={port}, log_level='warning')")
    log = (home / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start: " + (home / "server.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        yield base, secret
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _expected_status(message) -> bool:
    """A refused login answers 401 on purpose; chromium logs every non-2xx document as a console error."""
    url = urlparse(message.location.get("url") or "")
    return url.path == "/login" and "status of 401" in message.text


def _canvas_pixels(page, selector: str) -> int:
    """How many non-transparent pixels the first canvas under ``selector`` has."""
    return page.evaluate("""(selector) => {
        const canvas = document.querySelector(selector + ' canvas');
        if (!canvas) { return -1; }
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { count++; } }
        return count;
    }""", selector)


def test_cockpit_scenario_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, secret = server
    marks = [("start", time.monotonic())]
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")

        def guard(route) -> None:
            host = urlparse(route.request.url).hostname or ""
            if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"{m.location.get('url')}: {m.text}")
                if m.type == "error" and not _expected_status(m) else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.set_default_timeout(30_000)

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
        assert _canvas_pixels(page, "[data-chart='energy']") > 1000
        assert _canvas_pixels(page, "[data-chart='spark-non_fossil_share_2030']") > 100
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
        assert re.search(r"^7\s+value\s+many", problem_row), problem_row
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
        page.wait_for_url("**/accounting?year=2020")
        page.wait_for_selector("h1:has-text('2020')")
        page.wait_for_selector("[data-chart='acc-sector-energy'][data-drawn='1'] canvas")
        browser.close()
    marks.append(("approved", time.monotonic()))
    print("browser scenario timings (s):", {b[0]: round(b[1] - a[1], 1) for a, b in itertools.pairwise(marks)})
    assert blocked == [], f"requests left the machine: {blocked}"
    assert problems == [], f"console errors: {problems}"
