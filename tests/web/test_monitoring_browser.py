"""The monitoring pages in a real browser (Debian chromium, Playwright): charts drawn, no CSP or script error.

A tiny simulated city is written to the home's registry and lake; the app runs under uvicorn on the loopback
interface; the browser carries an analyst's login session (made with the store's ``create_session``; the login
form itself is tested in ``test_browser.py``). Requests leaving the loopback interface are blocked and fail
the test, as do console errors (a CSP violation, a script error).
"""

from __future__ import annotations

import json

import pytest

from tests.web.browser_support import ARTIFACTS, CHROMIUM, canvas_pixels, guarded_page, platform_server
from tests.web.conftest import HAS_API, seeded_database

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    from citycarbon.monitoring.ingest import ingest_frame
    from citycarbon.monitoring.lake import Lake
    from citycarbon.monitoring.simulate import simulate
    from citycarbon.store import users
    from citycarbon.store.monitoring_registry import save_registry

    home = tmp_path_factory.mktemp("monitoring-browser-home")
    settings, db = seeded_database(home, tmp_path_factory)
    city = simulate(4, 2, 2, seed=5)
    try:
        with db.session() as session:
            analyst, _ = users.create_user(session, username="analyst", role="analyst", actor="test")
            session_id, _ = users.create_session(session, users.principal_for_user(analyst))
        save_registry(db, city.registry, "test")
    finally:
        db.dispose()
    ingest_frame(Lake.open(settings.lake_dir), city.registry, city.readings, source="test")
    with platform_server(home) as base:
        yield base, session_id, city


def test_monitoring_pages_draw_their_charts_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, session_id, city = server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, context, page = guarded_page(playwright, blocked, problems)
        context.add_cookies([{"name": "cc_session", "value": session_id, "url": base}])
        page.set_default_timeout(60_000)

        page.goto(base + "/monitoring")
        page.wait_for_selector("h1:has-text('能耗在线监测')")
        page.wait_for_selector("[data-chart='monitoring-energy'][data-drawn='1'] canvas")
        assert canvas_pixels(page, "[data-chart='monitoring-energy']") > 1000
        assert page.locator("table.monitoring-units tbody tr").count() == 4
        page.screenshot(path=str(ARTIFACTS / "monitoring-zh.png"), full_page=True)

        unit = str(city.enterprises["enterprise_id"].iloc[0])
        point = str(city.points.loc[city.points["enterprise_id"] == unit, "point_id"].iloc[0])
        page.goto(base + f"/monitoring/enterprises/{unit}?lang=en")
        page.wait_for_selector("h2:has-text('Metering points')")
        page.wait_for_selector(f"[data-chart='point-{point}'][data-drawn='1'] canvas")
        assert canvas_pixels(page, f"[data-chart='point-{point}']") > 1000
        spec = json.loads(page.locator(f"#chart-point-{point}").text_content() or "{}")
        assert spec["series"][0]["name"] == point
        page.screenshot(path=str(ARTIFACTS / "monitoring-unit-en.png"), full_page=True)
        browser.close()
    assert not blocked, blocked
    assert not problems, problems
