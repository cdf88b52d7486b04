"""The project gate's pages in a real browser (Debian chromium, Playwright): the registry, a project's check page
with its budget and workflow summaries, the pipeline chart and the energy-project registry's chart are drawn,
with no CSP or script error and no request leaving the loopback interface.

The issue's example project is filed through the services (registry, workflow, ledgers) into the home's store;
an energy project is registered grid-connected; the browser carries an analyst's login session."""

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
    from citycarbon.services.projects import energy_projects, ledgers, registry, workflow
    from citycarbon.store import users
    from tests.projects.support import CITY, OFFICE
    from tests.projects.test_registry_service import body

    home = tmp_path_factory.mktemp("projects-browser-home")
    _settings, db = seeded_database(home, tmp_path_factory)
    try:
        code = registry.create_project(db, OFFICE, CITY, body()).view.code
        workflow.submit(db, OFFICE, CITY, code)
        workflow.check_completeness(db, OFFICE, CITY, code)
        ledgers.add_source(db, OFFICE, CITY, {"code": "NH-2026-01", "kind": "energy", "amount": "5000",
                                              "unit": "tce", "origin": "closure", "region_code": "210281",
                                              "document": "大工信发〔2026〕12号", "plant": "某焦化厂（已关停）"})
        ledgers.allocate(db, OFFICE, CITY, code, "NH-2026-01", "1000", "tce")
        energy_projects.register_energy_project(db, OFFICE, CITY, {
            "name": "海上风电示例", "technology": "wind_offshore", "region_code": "210283", "capacity_mw": 300,
            "stage": "construction", "construction_on": "2026-03-01", "planned_on": "2027-12-31"})
        with db.session() as session:
            analyst, _ = users.create_user(session, username="analyst", role="analyst", actor="test")
            session_id, _ = users.create_session(session, users.principal_for_user(analyst))
    finally:
        db.dispose()
    with platform_server(home) as base:
        yield base, session_id, code


def test_project_gate_pages_draw_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, session_id, code = server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, context, page = guarded_page(playwright, blocked, problems)
        context.add_cookies([{"name": "cc_session", "value": session_id, "url": base}])
        page.set_default_timeout(60_000)

        page.goto(base + "/projects")
        page.wait_for_selector(f"a[href='/projects/{code}']")
        page.goto(base + f"/projects/{code}")
        page.wait_for_selector("h1")
        text = page.locator("main").inner_text()
        assert "当量值" in text and "等价值" in text and "乙烯" in text
        assert page.locator(".budget-summary").count() == 1
        page.screenshot(path=str(ARTIFACTS / "project-check-zh.png"), full_page=True)

        page.goto(base + "/projects/pipeline")
        page.wait_for_selector("#project-pipeline[data-drawn='1'] canvas")
        assert canvas_pixels(page, "#project-pipeline") > 1000
        page.screenshot(path=str(ARTIFACTS / "project-pipeline-zh.png"), full_page=True)

        page.goto(base + "/energy-projects?lang=en")
        page.wait_for_selector("[data-chart='energy-pipeline'][data-drawn='1'] canvas")
        assert canvas_pixels(page, "[data-chart='energy-pipeline']") > 1000
        page.screenshot(path=str(ARTIFACTS / "energy-projects-en.png"), full_page=True)
        browser.close()
    assert not blocked, blocked
    assert not problems, problems
