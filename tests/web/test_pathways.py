"""The pathways page: renders in zh_CN and en for the allowed roles (403 page for others), the results fragment
moves with the levers (more wind and solar → lower 2030 CO2), share links round-trip, bad lever values get
the designed message, wedges and ensemble fragments answer, no external URL, no inline script."""

from __future__ import annotations

import json
import re

import pytest

from tests.web.test_i18n_assets import EXTERNAL


def _kpi(html: str, key: str) -> float:
    match = re.search(rf'data-kpi="{key}" data-value="([^"]*)"', html)
    assert match, f"no KPI {key}"
    return float(match.group(1))


def _chart(html: str, chart_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="chart-{chart_id}">(.*?)</script>', html, re.S)
    assert match, f"no chart {chart_id}"
    return json.loads(match.group(1))


@pytest.mark.parametrize("user", ["admin", "analyst", "viewer"])
@pytest.mark.parametrize(("lang", "words"), [("zh_CN", ("政策杠杆", "方案目标", "二氧化碳达峰年份")),
                                             ("en", ("Levers", "Plan targets", "CO2 peak year"))])
def test_page_renders_for_allowed_roles_in_both_languages(web_env, user, lang, words):
    page = web_env.get(f"/pathways?lang={lang}", user=user)
    assert page.status_code == 200, page.text[:500]
    for word in words:
        assert word in page.text
    assert 'href="/pathways"' in page.text  # the nav entry is shown
    assert 'type="range"' in page.text and 'name="wind_onshore_2030_mw"' in page.text
    assert "<script>" not in page.text  # no inline script: only src= and JSON blocks
    assert not EXTERNAL.findall(page.text.replace("http://www.w3.org", ""))
    co2 = _chart(page.text, "pw-co2")
    assert len(co2["series"]) == 4 and len(co2["categories"]) == 41


def test_other_roles_get_the_designed_403_and_anonymous_the_login(web_env):
    assert web_env.get("/pathways", user="district-a").status_code == 403
    assert web_env.get("/pathways/results", user="enterprise-x").status_code == 403
    anonymous = web_env.get("/pathways", user=None)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]


def test_more_wind_and_solar_lowers_2030_co2_in_the_fragment(web_env):
    base = web_env.get("/pathways/results?scenario=Plan", user="viewer", headers={"HX-Request": "true"})
    assert base.status_code == 200 and 'id="pathways-results"' in base.text
    assert "<html" not in base.text  # a fragment, not a page
    more = web_env.get("/pathways/results", user="viewer", headers={"HX-Request": "true"},
                       params={"scenario": "Plan", "wind_onshore_2030_mw": 6000, "offshore_wind_2030_mw": 6000,
                               "solar_utility_2030_mw": 4000, "rooftop_pv_2030_mw": 3000})
    assert more.status_code == 200
    assert _kpi(more.text, "co2_2030") < _kpi(base.text, "co2_2030")
    assert _chart(more.text, "pw-co2")["series"][-1]["data"] != _chart(base.text, "pw-co2")["series"][-1]["data"]
    share = more.headers["HX-Replace-Url"]
    assert share.startswith("/pathways?scenario=Plan&code=") and "offshore_wind_2030_mw=6000" in share
    # the share link renders the same what-if as a page, and a bare code is found in the server's memory
    page = web_env.get(share, user="viewer")
    assert page.status_code == 200 and _kpi(page.text, "co2_2030") == _kpi(more.text, "co2_2030")
    code = re.search(r"code=([a-z0-9]+)", share).group(1)
    bare = web_env.get(f"/pathways?code={code}", user="viewer")
    assert _kpi(bare.text, "co2_2030") == _kpi(more.text, "co2_2030")
    assert 'value="6000.0"' in bare.text  # the sliders show the shared settings


def test_bad_lever_value_and_unknown_code_get_designed_messages(web_env):
    bad = web_env.get("/pathways/results", params={"scenario": "Plan", "ccus_2060_mt": 99})
    assert bad.status_code == 200 and 'class="errors"' in bad.text and "levers.ccus_2060_mt" in bad.text
    page = web_env.get("/pathways", params={"scenario": "Plam"})
    assert page.status_code == 422 and "Plan" in page.text and 'role="alert"' in page.text
    unknown = web_env.get("/pathways?code=zzzzzzzzzz&lang=en")
    assert unknown.status_code == 200 and "not known to this server" in unknown.text


def test_wedges_and_ensemble_fragments(web_env):
    wedges = web_env.get("/pathways/wedges", params={"scenario": "Plan", "lang": "en"})
    assert wedges.status_code == 200
    chart = _chart(wedges.text, "pw-wedges")
    assert chart["type"] == "stacked" and len(chart["series"]) >= 3
    same = web_env.get("/pathways/wedges", params={"scenario": "BAU", "lang": "en"})
    assert "nothing to attribute" in same.text
    ensemble = web_env.get("/pathways/ensemble", params={"scenario": "Plan", "runs": 200, "lang": "en"})
    assert ensemble.status_code == 200
    assert 0.0 <= _kpi(ensemble.text, "p_peak_by_2030") <= 1.0
    assert sum(_chart(ensemble.text, "pw-peak-years")["series"][0]["data"]) == pytest.approx(100, abs=1)


# issue 17 (web) -------------------------------------------------------------------------------------------------
def _basis_peak(html: str, basis: str) -> int:
    match = re.search(rf'data-basis-row="{basis}" data-peak-year="(\d+)"', html)
    assert match, f"no basis row {basis}"
    return int(match.group(1))


def test_basis_switch_redraws_the_peak_and_travels_with_the_share_link(web_env):
    """BAU peaks in 2060 on the net-inflow basis (nuclear exports credited) but in the 2030s on the consumption
    basis (model run, tests/pathways golden); the KPI, the CO2 chart and the share link follow the switch."""
    pages = {b: web_env.get("/pathways/results", user="viewer", headers={"HX-Request": "true"},
                            params={"scenario": "BAU", "basis": b})
             for b in ("rule", "net_inflow", "consumption", "territorial")}
    for basis, page in pages.items():
        assert page.status_code == 200 and 'class="errors"' not in page.text, basis
        assert _kpi(page.text, "peak_year") == _basis_peak(page.text, basis)  # the KPI is the chosen basis' peak
        assert f'data-basis-row="{basis}"' in page.text and 'aria-current="true"' in page.text
    assert _kpi(pages["net_inflow"].text, "peak_year") == 2060
    assert _kpi(pages["consumption"].text, "peak_year") < 2040
    # the rule "worse" takes the later of net inflow and consumption: the headline is the net-inflow peak here
    assert _kpi(pages["rule"].text, "peak_year") == max(_kpi(pages["net_inflow"].text, "peak_year"),
                                                        _kpi(pages["consumption"].text, "peak_year"))
    assert _chart(pages["consumption"].text, "pw-co2") != _chart(pages["net_inflow"].text, "pw-co2")
    assert "basis=consumption" in pages["consumption"].headers["HX-Replace-Url"]
    assert "basis=" not in pages["rule"].headers["HX-Replace-Url"]  # the default stays out of the link
    page = web_env.get(pages["consumption"].headers["HX-Replace-Url"], user="viewer")
    assert page.status_code == 200 and re.search(r'value="consumption" form="pathways-form" checked', page.text)
    assert _kpi(page.text, "peak_year") == _kpi(pages["consumption"].text, "peak_year")
    zh = web_env.get("/pathways?scenario=BAU&basis=territorial", user="viewer").text
    for words in ("净调入电力口径", "消费口径", "属地口径", "按核算方案规则（取较差口径）", "非化石能源占比（按归属方法）"):
        assert words in zh


def test_non_fossil_view_shows_each_attribution(web_env):
    page = web_env.get("/pathways/results", params={"scenario": "Plan", "lang": "en"}).text
    chart = _chart(page, "pw-non-fossil-attribution")
    assert len(chart["series"]) == 3 and chart["unit"] == "%"
    grid, local, added = (float(re.search(rf'data-non-fossil="{k}" data-value="([^"]+)"', page).group(1))
                          for k in ("grid_average", "local_mix", "local_additions"))
    assert 0 < added < grid < 1 and 0 < local < 1
    assert "Local-mix attribution" in page and "the accounting profile's choice" in page


@pytest.mark.parametrize("basis", ["nonsense", "x" * 5000, "RULE"])
def test_an_unknown_basis_gets_the_designed_message_not_a_500(web_env, basis):
    page = web_env.get("/pathways", params={"scenario": "Plan", "basis": basis, "lang": "en"})
    assert page.status_code == 422 and 'role="alert"' in page.text and "(basis)" in page.text
    alert = page.text[page.text.index('role="alert"'):]
    assert "x" * 100 not in alert[:alert.index("</div>")]  # the message cuts the value
    part = web_env.get("/pathways/results", params={"scenario": "Plan", "basis": basis})
    assert part.status_code == 200 and 'class="errors"' in part.text and "(basis)" in part.text
