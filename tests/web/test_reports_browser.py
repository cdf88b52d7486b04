"""The issue's "done when" in a real browser (Debian chromium, Playwright): the office logs in (password and
TOTP), runs the 2024 assessment of the districts, adjusts one qualitative item with a reason, publishes, then
generates the city's report and downloads it as DOCX, PDF and XLSX; each downloaded file has its format's
signature. No request leaves the loopback interface and no script or CSP error is logged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.web.browser_support import ARTIFACTS, CHROMIUM, guarded_page, login_with_totp, platform_server
from tests.web.conftest import HAS_API, seeded_database

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
]
PASSWORD = "Dalian-reports-2026!"
SIGNATURES = {"docx": b"PK\x03\x04", "xlsx": b"PK\x03\x04", "pdf": b"%PDF-"}


def _prepare_home(home: Path, factory: pytest.TempPathFactory) -> str:
    """Seed the store and create the office (known password, TOTP enrolled a while ago); its TOTP secret."""
    import pyotp

    from citycarbon.store import users

    _, db = seeded_database(home, factory)
    try:
        with db.session() as session:
            office, _ = users.create_admin(session, username="office", actor="test")
            users.set_password(session, office, PASSWORD, actor="test")
            secret = users.enroll_totp(session, office).secret
            earlier = datetime.now(UTC) - timedelta(seconds=90)
            users.confirm_totp(session, office, pyotp.TOTP(secret).at(earlier), now=earlier)
    finally:
        db.dispose()
    return secret


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("reports-browser-home")
    secret = _prepare_home(home, tmp_path_factory)
    with platform_server(home, warm=False) as base:
        yield base, secret, home


def _expected(message) -> bool:
    """The login's password step answers 401 (the TOTP step follows); chromium logs it as a console error."""
    url = urlparse(message.location.get("url") or "")
    return url.path == "/login" and "status of 401" in message.text


def test_office_assesses_publishes_and_downloads_the_report_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, secret, _home = server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, _context, page = guarded_page(playwright, blocked, problems, expected_console=_expected)
        page.set_default_timeout(120_000)
        login_with_totp(page, base + "/assessment?year=2024", PASSWORD, secret, username="office")
        page.wait_for_selector("#run-form")

        # run the 2024 assessment of the districts
        page.select_option("#run-year", "2024")
        page.select_option("#run-scheme", "district")
        page.click("#run-form button[type=submit]")
        page.wait_for_selector("table.assess-board tbody tr")
        assert page.locator("svg.assess-ranking .assess-bar").count() == page.locator(
            "table.assess-board tbody tr").count() > 0
        assert "草稿" in page.locator("#run-state").inner_text()
        page.screenshot(path=str(ARTIFACTS / "assessment-board-zh.png"), full_page=True)

        # one unit's breakdown: adjust the qualitative item 组织领导 with a reason
        page.click("table.assess-board tbody tr:first-child a")
        page.wait_for_selector("#adjust-form")
        page.select_option("#adj-indicator", "organisation")
        page.fill("#adj-points", "9.5")
        page.fill("#adj-reason", "领导小组按季度调度，责任清单落实到位")
        page.click("#adjust-form button[type=submit]")
        page.wait_for_selector(".notice")
        text = page.locator("main").inner_text()
        assert "已调整该指标" in text and "领导小组按季度调度，责任清单落实到位" in text
        assert "9.50" in page.locator("tr[data-item='organisation']").inner_text()
        page.screenshot(path=str(ARTIFACTS / "assessment-unit-zh.png"), full_page=True)

        # publish (before the objection period ends: the note says why)
        page.click("text=返回考核结果")
        page.wait_for_selector("#publish-form")
        page.fill("#as-note", "经领导小组会议审定，提前发布")
        page.check("#publish-form input[name=early]")
        page.click("#publish-form button[type=submit]")
        page.wait_for_selector(".notice")
        assert "已发布" in page.locator("#run-state").inner_text()
        assert page.locator("#publish-form").count() == 0

        # the city's report: generate the three formats and follow the job until it is done
        page.goto(base + "/reports?year=2024")
        page.wait_for_selector("#generate-form")
        page.click("#generate-form button[type=submit]")
        page.wait_for_selector("#report-job")
        page.wait_for_selector("#report-job[data-status='done']", timeout=300_000)
        page.screenshot(path=str(ARTIFACTS / "reports-done-zh.png"), full_page=True)
        got = {}
        for fmt in ("docx", "pdf", "xlsx"):
            with page.expect_download() as info:
                page.click(f"#report-job a[data-format='{fmt}']")
            download = info.value
            path = download.path()
            assert path is not None
            content = Path(path).read_bytes()
            assert content.startswith(SIGNATURES[fmt]), (fmt, content[:8])
            assert download.suggested_filename.endswith(f".{fmt}")
            got[fmt] = len(content)
        assert set(got) == {"docx", "pdf", "xlsx"} and all(size > 1000 for size in got.values())
        page.goto(base + "/reports?year=2024")
        assert page.locator("table.report-documents tbody tr").count() >= 3
        assert re.search(r"[0-9a-f]{12}", page.locator("table.report-documents").inner_text())
        browser.close()
    assert not blocked, blocked
    assert not problems, problems
