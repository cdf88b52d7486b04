"""The monitoring pages in a real browser (Debian chromium, Playwright): charts drawn, no CSP or script error.

A tiny simulated city is written to the home's registry and lake; the app runs under uvicorn on the loopback
interface; the browser carries an analyst's login session (made with the store's ``create_session``; the login
form itself is tested in ``test_browser.py``). Requests leaving the loopback interface are blocked and fail
the test, as do console errors (a CSP violation, a script error).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.web.conftest import HAS_API, seeded_database

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    from citycarbon.monitoring.ingest import ingest_frame
    from citycarbon.monitoring.lake import Lake
    from citycarbon.monitoring.registry import registry_dir
    from citycarbon.monitoring.simulate import simulate
    from citycarbon.store import users

    home = tmp_path_factory.mktemp("monitoring-browser-home")
    settings, db = seeded_database(home, tmp_path_factory)
    try:
        with db.session() as session:
            analyst, _ = users.create_user(session, username="analyst", role="analyst", actor="test")
            session_id, _ = users.create_session(session, users.principal_for_user(analyst))
    finally:
        db.dispose()
    city = simulate(4, 2, 2, seed=5)
    city.registry.write(registry_dir(home))
    ingest_frame(Lake(settings.lake_dir), city.registry, city.readings, source="test")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CITYCARBON_HOME": str(home), "CITYCARBON_COOKIE_SECURE": "0"}
    code = ("import uvicorn; from citycarbon.api.app import create_app; "
            f"uvicorn.run(create_app(prepare=False), host='127.0.0.1', port={port}, log_level='warning')")
    log = (home / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT)
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
        yield f"http://127.0.0.1:{port}", session_id, city
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _canvas_pixels(page, selector: str) -> int:
    return page.evaluate("""(selector) => {
        const canvas = document.querySelector(selector + ' canvas');
        if (!canvas) { return -1; }
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { count++; } }
        return count;
    }""", selector)


def test_monitoring_pages_draw_their_charts_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, session_id, city = server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "cc_session", "value": session_id, "url": base}])

        def guard(route) -> None:
            host = urlparse(route.request.url).hostname or ""
            if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"{m.location.get('url')}: {m.text}") if m.type == "error"
                else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.set_default_timeout(60_000)

        page.goto(base + "/monitoring")
        page.wait_for_selector("h1:has-text('能耗在线监测')")
        page.wait_for_selector("[data-chart='monitoring-energy'][data-drawn='1'] canvas")
        assert _canvas_pixels(page, "[data-chart='monitoring-energy']") > 1000
        assert page.locator("table.monitoring-units tbody tr").count() == 4
        page.screenshot(path=str(ARTIFACTS / "monitoring-zh.png"), full_page=True)

        unit = str(city.enterprises["enterprise_id"].iloc[0])
        point = str(city.points.loc[city.points["enterprise_id"] == unit, "point_id"].iloc[0])
        page.goto(base + f"/monitoring/enterprises/{unit}?lang=en")
        page.wait_for_selector("h2:has-text('Metering points')")
        page.wait_for_selector(f"[data-chart='point-{point}'][data-drawn='1'] canvas")
        assert _canvas_pixels(page, f"[data-chart='point-{point}']") > 1000
        spec = json.loads(page.locator(f"#chart-point-{point}").text_content() or "{}")
        assert spec["series"][0]["name"] == point
        page.screenshot(path=str(ARTIFACTS / "monitoring-unit-en.png"), full_page=True)
        browser.close()
    assert not blocked, blocked
    assert not problems, problems
