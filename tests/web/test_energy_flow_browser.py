"""The accounting page's energy flow (能流图) in chromium: the Sankey is drawn (a canvas with pixels, no JS
error, no request off the loopback), its totals (data attributes) equal the page's tables, and switching the
electricity method or the year changes the Sankey and the tables together."""

from __future__ import annotations

import re

import pytest

from tests.web.browser_support import ARTIFACTS, CHROMIUM, canvas_pixels, guarded_page, login_with_totp, platform_server
from tests.web.conftest import HAS_API
from tests.web.test_browser import PASSWORD, _prepare_home

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
]


@pytest.fixture(scope="module")
def flow_server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("flow-browser-home")
    secret = _prepare_home(home, tmp_path_factory)
    with platform_server(home, warm=False) as base:
        yield base, secret


def _number(text: str) -> float:
    return float(re.search(r"-?[\d,]+(\.\d+)?", text).group(0).replace(",", ""))


def _read(page) -> dict[str, float | str]:
    sankey = page.locator("#energy-flow")
    return {
        "method": sankey.get_attribute("data-method"),
        "total": float(sankey.get_attribute("data-total-energy-tce")),
        "drawn": float(sankey.get_attribute("data-drawn-total-tce")),
        "table_total": float(page.get_attribute("table.flow-totals tr[data-code='total_energy_tce'] td",
                                                "data-value")),
        "kpi_energy": _number(page.inner_text(".kpi[data-code='energy_consumption_tce'] .kpi-value")),
        "kpi_coal": page.inner_text(".kpi[data-code='coal_share'] .kpi-value").strip(),
        "table_coal": page.inner_text("tr[data-group='coal'] td.share").strip(),
    }


def _check(values: dict) -> None:
    assert values["drawn"] == pytest.approx(values["total"], rel=1e-9)
    assert values["table_total"] == pytest.approx(values["total"], rel=1e-9)
    assert values["kpi_energy"] == pytest.approx(values["total"] / 1e4, abs=0.051)  # 万tce, one decimal
    assert values["kpi_coal"] == values["table_coal"]


def test_energy_flow_is_drawn_and_agrees_with_the_tables(flow_server):
    from playwright.sync_api import sync_playwright

    base, secret = flow_server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, context, page = guarded_page(playwright, blocked, problems,
                                              expected_console=lambda m: "status of 401" in m.text)
        login_with_totp(page, base + "/accounting", PASSWORD, secret)

        page.goto(base + "/accounting?year=2022&method=coal-equivalent")
        page.wait_for_selector("#energy-flow[data-drawn='1'] canvas")
        assert canvas_pixels(page, "#energy-flow") > 1000
        assert page.locator("details.flow-table").get_attribute("open") is None  # the table folds once drawn
        page.wait_for_selector("[data-chart='acc-fuel'][data-drawn='1'] canvas")
        coal_eq = _read(page)
        assert coal_eq["method"] == "coal-equivalent"
        _check(coal_eq)
        assert "发电煤耗法" in page.inner_text("#energy-flow-section")
        page.screenshot(path=str(ARTIFACTS / "energy-flow-zh.png"), full_page=True)

        # the other electricity method: the Sankey and the tables change together
        page.goto(base + "/accounting?year=2022&method=calorific")
        page.wait_for_selector("#energy-flow[data-drawn='1'] canvas")
        assert canvas_pixels(page, "#energy-flow") > 1000
        calorific = _read(page)
        assert calorific["method"] == "calorific"
        _check(calorific)
        assert calorific["total"] != pytest.approx(coal_eq["total"], rel=1e-6)
        assert "电热当量法" in page.inner_text("#energy-flow-section")

        # the year picker swaps the page in with HTMX: the Sankey is drawn again with that year's totals
        page.select_option("#year", "2021")
        page.wait_for_function("() => document.querySelector('#energy-flow') && "
                               "document.querySelector('#energy-flow').dataset.drawn === '1' && "
                               "location.search.includes('year=2021')")
        assert canvas_pixels(page, "#energy-flow") > 1000
        _check(_read(page))
        context.close()
        browser.close()
    assert not blocked, blocked
    assert not problems, problems
