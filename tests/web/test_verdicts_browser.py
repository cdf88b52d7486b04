"""The headline verdicts in a real browser (Debian chromium, Playwright; same launch options as test_browser.py):
log in, open the cockpit, targets, accounting and pathways pages, read the peak year and the neutrality verdict
from the ``data-`` attributes and the visible text of ``partials/peak_verdict.html``, and find them equal on
all four (issue 13 item 5). Requests leaving the loopback interface and console errors fail the test."""

from __future__ import annotations

import pytest

from tests.web.browser_support import ARTIFACTS, CHROMIUM, guarded_page, login_with_totp, platform_server
from tests.web.conftest import HAS_API
from tests.web.test_browser import PASSWORD, _prepare_home

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
]

PAGES = ("/", "/targets", "/accounting", "/pathways")


@pytest.fixture(scope="module")
def verdicts_server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("verdicts-browser-home")
    secret = _prepare_home(home, tmp_path_factory)
    with platform_server(home, warm=False) as base:
        yield base, secret


def _read(page) -> dict[str, str]:
    box = page.locator("[data-peak-verdict]")
    box.wait_for()
    return {"peak_year": box.get_attribute("data-peak-year"), "peak_basis": box.get_attribute("data-peak-basis"),
            "neutrality": box.get_attribute("data-neutrality-reached"),
            "neutrality_basis": box.get_attribute("data-neutrality-basis"),
            "peak_text": page.inner_text("[data-verdict-peak-year]").strip(),
            "neutrality_text": page.inner_text("[data-verdict-neutrality]").strip()}


def test_peak_year_and_neutrality_verdict_agree_on_every_page(verdicts_server):
    from playwright.sync_api import sync_playwright

    base, secret = verdicts_server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, context, page = guarded_page(playwright, blocked, problems,
                                              expected_console=lambda m: "status of 401" in m.text)
        login_with_totp(page, base + "/", PASSWORD, secret)

        seen = {}
        for path in PAGES:
            page.goto(base + path)
            seen[path] = _read(page)
        page.screenshot(path=str(ARTIFACTS / "verdicts-pathways-zh.png"), full_page=True)
        context.close()
        browser.close()

    first = seen["/"]
    assert first["peak_year"] and first["peak_year"].isdigit()
    assert first["peak_text"].startswith(first["peak_year"])  # 2024年
    assert first["neutrality"] in ("true", "false")
    assert first["neutrality_text"] == ("已达成" if first["neutrality"] == "true" else "未达成")
    for path, values in seen.items():
        assert values == first, (path, values, first)
    assert not blocked, blocked
    assert not problems, problems
