"""The pathways page in a real browser (Debian chromium, Playwright; same launch options as test_browser.py).

Log in, open /pathways, check the comparison charts are drawn, move the offshore-wind slider with the keyboard
(End: to its maximum) and see the results block swapped in by HTMX with a lower 2030 CO2, redrawn charts and
the share link in the address bar; compute the wedges and a small ensemble; print to PDF. Requests leaving the
loopback interface are blocked and fail the test, as do console errors (a CSP violation, a script error).
Screenshots and the PDF go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import pytest

from tests.web.browser_support import ARTIFACTS, CHROMIUM, canvas_pixels, guarded_page, login_with_totp, platform_server
from tests.web.conftest import HAS_API
from tests.web.test_browser import PASSWORD, _prepare_home

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAS_API, reason="citycarbon.api (the platform app) is not installed"),
]


@pytest.fixture(scope="module")
def pathways_server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("pathways-browser-home")
    secret = _prepare_home(home, tmp_path_factory)
    with platform_server(home, warm=False) as base:
        yield base, secret


def _kpi(page, key: str) -> float:
    return float(page.get_attribute(f"[data-kpi='{key}']", "data-value"))


def test_slider_redraws_the_pathway_in_chromium(pathways_server):
    from playwright.sync_api import sync_playwright

    base, secret = pathways_server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, context, page = guarded_page(playwright, blocked, problems,
                                              expected_console=lambda m: "status of 401" in m.text)

        login_with_totp(page, base + "/pathways", PASSWORD, secret)
        page.goto(base + "/pathways")
        page.wait_for_selector("h1:has-text('减排路径')")
        page.wait_for_selector("[data-chart='pw-co2'][data-drawn='1'] canvas")
        assert canvas_pixels(page, "[data-chart='pw-co2']") > 1000
        before = _kpi(page, "co2_2030")
        page.screenshot(path=str(ARTIFACTS / "pathways-zh.png"), full_page=True)

        # move a slider: the read-out follows at once, the results block is swapped in after the debounce
        slider = page.locator("#lever-offshore_wind_2030_mw")
        slider.focus()
        slider.press("End")
        page.wait_for_function(
            "(before) => Number(document.querySelector(\"[data-kpi='co2_2030']\").dataset.value) < before", arg=before)
        assert "6,000" in page.inner_text("#out-offshore_wind_2030_mw")
        page.wait_for_selector("[data-chart='pw-co2'][data-drawn='1'] canvas")
        assert canvas_pixels(page, "[data-chart='pw-co2']") > 1000
        page.wait_for_url("**offshore_wind_2030_mw=6000**")
        assert "code=" in page.url
        assert page.locator(".pathways-stale").first.is_visible()

        # wedges and a small ensemble on demand
        page.click("button[hx-get='/pathways/wedges']")
        page.wait_for_selector("[data-chart='pw-wedges'][data-drawn='1'] canvas")
        # issue 17 (webunc): the by-sector LMDI beside the wedges, its total equal to the wedges' total; another year
        check = page.locator(".pathways-lmdi-check")
        assert float(check.get_attribute("data-lmdi-total")) == pytest.approx(
            float(check.get_attribute("data-wedges-total")), rel=1e-9)
        page.select_option("#pathways-lmdi-year", "2060")
        page.click(".pathways-lmdi button[type=submit]")
        page.wait_for_selector(".pathways-lmdi[data-lmdi-year='2060']")
        page.select_option("#pathways-runs", "200")
        page.click("#pathways-ensemble ~ * button, section:has(#pathways-ensemble) button[type=submit]")
        page.wait_for_selector("[data-chart='pw-peak-years'][data-drawn='1'] canvas")
        assert 0.0 <= _kpi(page, "p_peak_by_2030") <= 1.0
        page.screenshot(path=str(ARTIFACTS / "pathways-what-if.png"), full_page=True)
        page.pdf(path=str(ARTIFACTS / "pathways.pdf"), format="A4", print_background=True)
        page.emulate_media(media="print")  # what the PDF holds: results without the levers
        assert not page.locator("#pathways-form").is_visible()
        page.screenshot(path=str(ARTIFACTS / "pathways-print.png"), full_page=True)
        page.emulate_media(media="screen")
        assert (ARTIFACTS / "pathways.pdf").read_bytes().startswith(b"%PDF")

        # the share link opens the same what-if in a fresh page
        shared = context.new_page()
        shared.goto(page.url)
        shared.wait_for_selector("[data-chart='pw-co2'][data-drawn='1'] canvas")
        assert _kpi(shared, "co2_2030") == _kpi(page, "co2_2030")
        browser.close()
    assert blocked == [], f"requests left the machine: {blocked}"
    assert problems == [], f"console errors: {problems}"


# issue 17 (web) -------------------------------------------------------------------------------------------------
def test_basis_switch_cost_view_macc_and_what_it_takes_in_chromium(pathways_server):
    """Switch the CO2 basis (the KPIs and the address bar follow, no reload), open the cost view and see the MACC
    drawn for 2030 then 2060, open "what it takes". The login uses the next TOTP step: the slider test may have
    used the current one (a step is accepted once)."""
    import time

    import pyotp
    from playwright.sync_api import sync_playwright

    base, secret = pathways_server
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, _context, page = guarded_page(playwright, blocked, problems,
                                               expected_console=lambda m: "status of 401" in m.text)
        page.goto(base + "/pathways?scenario=BAU")
        page.fill("#username", "office")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#totp")
        page.fill("#password", PASSWORD)
        page.fill("#totp", pyotp.TOTP(secret).at(time.time() + 30))
        page.click("button[type=submit]")
        page.goto(base + "/pathways?scenario=BAU")
        page.wait_for_selector("[data-chart='pw-co2'][data-drawn='1'] canvas")
        page.evaluate("window.__noReload = true")  # gone if the page reloads
        before = _kpi(page, "peak_year")
        assert before == 2060  # BAU on the rule: the net-inflow peak decides

        page.check("input[name=basis][value=consumption]")
        page.wait_for_function("() => document.querySelector('.pathways-bases').dataset.basis === 'consumption'")
        assert _kpi(page, "peak_year") < before
        page.wait_for_url("**basis=consumption**")
        page.wait_for_selector("[data-chart='pw-co2'][data-drawn='1'] canvas")
        assert canvas_pixels(page, "[data-chart='pw-co2']") > 1000
        assert page.evaluate("window.__noReload") is True
        assert "消费口径" in page.inner_text("[data-basis-row='consumption']")
        assert page.input_value("#pathways-picker-basis") == "consumption"  # a scenario reset keeps the basis

        page.click("#pathways-costs-open")
        page.wait_for_selector("[data-chart='pw-cost-sectors'][data-drawn='1'] canvas")
        page.wait_for_selector("[data-chart='pw-macc'][data-drawn='1'] canvas")  # loads itself with the view
        assert canvas_pixels(page, "[data-chart='pw-macc']") > 1000
        assert page.locator("[data-npv]").count() >= 3
        assert page.locator(".pathways-macc-runs[data-runs='200']").count() == 1  # issue 17 (webunc): whiskers' runs
        page.click("button[data-macc-year='2060']")
        page.wait_for_selector(".pathways-macc-body[data-macc-year='2060'] "
                               "[data-chart='pw-macc'][data-drawn='1'] canvas")
        assert page.get_attribute("button[data-macc-year='2060']", "aria-pressed") == "true"
        box = page.locator("[data-chart='pw-macc']").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
        page.screenshot(path=str(ARTIFACTS / "pathways-costs-macc.png"), full_page=True)

        page.click("#pathways-what-it-takes-open")
        page.wait_for_selector(".pathways-what-it-takes-body")
        assert page.locator("[data-lever]").count() > 0 or page.locator("[data-unavailable]").count() == 1
        page.screenshot(path=str(ARTIFACTS / "pathways-what-it-takes.png"), full_page=True)
        browser.close()
    assert blocked == [], f"requests left the machine: {blocked}"
    assert problems == [], f"console errors: {problems}"
