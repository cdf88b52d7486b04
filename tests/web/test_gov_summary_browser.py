"""The office's board in a real browser (Debian chromium, Playwright): the tasks × units heat map is drawn by
gov_board.js from its JSON block, with no CSP or script error; a department user's board draws its one row."""

from __future__ import annotations

import pytest

from tests.web.browser_support import ARTIFACTS, CHROMIUM, canvas_pixels, guarded_page, platform_server
from tests.web.conftest import HAS_API, seeded_database

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    from citycarbon.store import users
    from tests.governance.summary_support import sample

    home = tmp_path_factory.mktemp("governance-browser-home")
    _settings, db = seeded_database(home, tmp_path_factory)
    sessions = {}
    try:
        with db.session(write=True) as session:
            sample(session)
            for name, role, org in (("office", "admin", None), ("dept", "department", "miit")):
                user, _ = users.create_user(session, username=name, role=role, actor="test", org_code=org)
                sessions[name], _ = users.create_session(session, users.principal_for_user(user))
    finally:
        db.dispose()
    with platform_server(home) as base:
        yield base, sessions


def test_the_board_draws_its_heat_map_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, sessions = server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, context, page = guarded_page(playwright, blocked, problems)
        page.set_default_timeout(60_000)
        for user, rows in (("office", 3), ("dept", 1)):
            context.clear_cookies()
            context.add_cookies([{"name": "cc_session", "value": sessions[user], "url": base}])
            page.goto(base + "/governance")
            page.wait_for_selector("h1:has-text('规划实施调度总览')")
            page.wait_for_selector("#gov-heatmap[data-drawn='1'] canvas")
            assert canvas_pixels(page, "#gov-heatmap") > 1000
            assert page.locator("#gov-heatmap").get_attribute("data-rows") == str(rows)
            page.screenshot(path=str(ARTIFACTS / f"governance-board-{user}.png"), full_page=True)
        page.goto(base + "/governance/rounds/2026Q4/summary")
        page.wait_for_selector("h1:has-text('调度情况汇总')")
        browser.close()
    assert not blocked, blocked
    assert not problems, problems
