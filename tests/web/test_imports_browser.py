"""A district user in a real browser (Debian chromium driven by Playwright) uploads a file holding another
district's row on the import page and sees it refused, naming the row and the region; nothing is stored
(issue 12: the web page used to accept what the API refused, and the admin approved it into the ledger).
Screenshots go to ``test-artifacts/`` (git-ignored)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.web.browser_support import ARTIFACTS, CHROMIUM, guarded_page, platform_server
from tests.web.conftest import HAS_API, HAS_IMPORTS, seeded_database

PASSWORD = "Lighthouse-dock-2026"
GANJINGZI, ZHONGSHAN = "210211", "210202"
FILE = ("year,region,variable,value,unit,price_base_year,status,source\n"
        f"2023,{GANJINGZI},population,80.1,10^4 person,,official,区统计局\n"
        f"2023,{ZHONGSHAN},population,39.6,10^4 person,,official,区统计局\n")

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
    pytest.mark.skipif(not HAS_IMPORTS, reason="citycarbon.store.imports (import batches) is not installed"),
]


def _prepare_home(home: Path, factory: pytest.TempPathFactory) -> None:
    from citycarbon.store import users

    _, db = seeded_database(home, factory)
    try:
        with db.session() as session:
            user, _ = users.create_user(session, username="ganjingzi", role="district", regions=(GANJINGZI,),
                                        actor="test")
            users.set_password(session, user, PASSWORD, actor="test")
    finally:
        db.dispose()


def _stored(home: Path) -> tuple[int, int]:
    """(import batches, audit rows about import batches) in the store under ``home``."""
    from citycarbon.settings import Settings
    from citycarbon.store import audit, imports
    from citycarbon.store.db import Database

    db = Database(Settings.for_home(home))
    try:
        with db.session() as session:
            return len(imports.list_batches(session, limit=100_000)), audit.count(session, entity="import_batch")
    finally:
        db.dispose()


def _expected_status(message) -> bool:
    """The refused upload answers 422 on purpose; chromium logs every non-2xx document as a console error."""
    url = urlparse(message.location.get("url") or "")
    return url.path == "/imports" and "status of 422" in message.text


def test_a_district_user_sees_another_districts_row_refused(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("browser-district-home")
    _prepare_home(home, tmp_path_factory)
    before = _stored(home)
    ARTIFACTS.mkdir(exist_ok=True)
    upload = ARTIFACTS / "population-2023-two-districts.csv"
    upload.write_text(FILE, encoding="utf-8")
    blocked: list[str] = []
    problems: list[str] = []
    with platform_server(home, warm=False) as base, sync_playwright() as playwright:
        browser, _context, page = guarded_page(playwright, blocked, problems, expected_console=_expected_status)
        page.goto(base + "/login")
        page.fill("#username", "ganjingzi")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("h1:has-text('驾驶舱')")

        page.goto(base + "/imports")
        page.set_input_files("#file", str(upload))
        page.select_option("#kind", "statistics")
        with page.expect_navigation() as navigation:
            page.click("#upload-form button[type=submit]")
        assert navigation.value.status == 422
        table = page.wait_for_selector("#upload-problems")
        row = page.locator("#upload-problems tbody tr").first.inner_text()
        assert row.split()[:3] == ["3", "行政区划", ZHONGSHAN], row  # the file's row 3, its field (labelled), region
        assert "不在您的辖区" in table.inner_text() and GANJINGZI in table.inner_text()
        assert "未保存任何内容" in table.inner_text()
        page.screenshot(path=str(ARTIFACTS / "import-other-district-refused.png"), full_page=True)

        page.goto(base + "/imports?lang=en")  # the same refusal in English
        page.set_input_files("#file", str(upload))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#upload-problems")
        assert "is not one of yours" in page.locator("#upload-problems").inner_text()
        browser.close()
    assert _stored(home) == before  # nothing was stored, not even a rejected batch or its audit row
    assert blocked == [], f"requests left the machine: {blocked}"
    assert problems == [], f"console errors: {problems}"
