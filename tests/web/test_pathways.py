"""The pathways page: renders in zh_CN and en for the allowed roles (403 page for others), the results fragment
moves with the levers (more wind and solar → lower 2030 CO2), share links round-trip, bad lever values get
the designed message, wedges and ensemble fragments answer, no external URL, no inline script."""

from __future__ import annotations

import itertools
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
    for words in ("净调入电力口径", "消费口径", "属地口径", "按核算方案规则（取较差口径）",
                  "非化石能源占比（按归属方法）"):
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


def _outputs(names: list[str]):
    """The model's outputs of shipped scenarios, computed here without the page (the cross-check)."""
    import numpy as np

    from citycarbon.services.pathways import PathwayService

    service = PathwayService()
    model = service.model()
    return model.evaluate(np.vstack([model.vector(service.base_scenario(n)) for n in names])), service


def test_cost_view_lists_every_scenario_npv_and_the_sectors_add_up(web_env):
    page = web_env.get("/pathways/costs", params={"scenario": "Plan", "lang": "en"})
    assert page.status_code == 200 and "<html" not in page.text
    listed = dict(re.findall(r'data-npv="([^"]+)" data-value="([^"]+)"', page.text))
    _, service = _outputs(["BAU"])
    expected = [n for n in ("BAU", "Plan", "Enhanced", "Neutrality") if n in service.shipped_names()]
    assert list(listed) == expected  # every shipped scenario of the view, in order, BAU first
    outputs, _ = _outputs(expected)
    for name, npv in zip(expected, outputs.npv(), strict=True):
        assert float(listed[name]) == pytest.approx(float(npv), rel=1e-9)
    assert re.search(r'data-npv="BAU" data-value="[^"]+" data-vs-bau="0.0"', page.text)
    assert "100M CNY" in page.text
    # the stacked chart: Plan against BAU by sector in 100M CNY/yr; the sectors add up to the total difference
    chart = _chart(page.text, "pw-cost-sectors")
    assert chart["type"] == "stacked" and chart["unit"] == "100M CNY/yr" and len(chart["series"]) == 8
    i = chart["categories"].index("2030")
    total = (outputs.value_at("cost_total_cny", 2030)[1] - outputs.value_at("cost_total_cny", 2030)[0]) / 1e8
    assert sum(s["data"][i] for s in chart["series"]) == pytest.approx(total, abs=0.05)
    zh = web_env.get("/pathways/costs", params={"scenario": "Plan"}).text
    assert "亿元" in zh and "边际减排成本曲线" in zh and "100M" not in zh
    assert _chart(zh, "pw-cost-sectors")["series"][0]["name"] == "电力"


def test_macc_fragment_has_sorted_variable_width_bars_for_each_year(web_env):
    charts = {}
    for year in (2030, 2060):
        page = web_env.get("/pathways/macc", params={"scenario": "Plan", "year": year})
        assert page.status_code == 200 and 'class="errors"' not in page.text
        charts[year] = chart = _chart(page.text, "pw-macc")
        bars = chart["bars"]
        assert chart["type"] == "macc" and chart["unit"] == "元/tCO₂" and len(bars) >= 5
        macs = [b["mac"] for b in bars]
        assert macs == sorted(macs)  # cheapest first
        assert bars[0]["start"] == 0
        for left, right in itertools.pairwise(bars):  # contiguous: each bar starts where the last ends
            assert right["start"] == pytest.approx(left["end"], abs=0.02)
        for b in bars:
            assert b["end"] - b["start"] == pytest.approx(b["abatement"], abs=0.02) and b["abatement"] > 0
        assert any(m < 0 for m in macs)  # negative-cost measures hang below the axis
        assert all(re.search(r"[\u4e00-\u9fff]", b["name"]) for b in bars)  # lever names in the page's language
    assert charts[2030]["bars"] != charts[2060]["bars"]
    en = _chart(web_env.get("/pathways/macc", params={"scenario": "Plan", "year": 2030, "lang": "en"}).text,
                "pw-macc")
    assert not any(re.search(r"[\u4e00-\u9fff]", b["name"]) for b in en["bars"])
    assert en["labels"]["mac"] == "Cost per tonne avoided"


@pytest.mark.parametrize("year", ["2045", "abc", "99999999999999999999999", "-1"])
def test_a_bad_macc_year_gets_the_designed_message(web_env, year):
    page = web_env.get("/pathways/macc", params={"scenario": "Plan", "year": year})
    assert page.status_code == 200 and 'class="errors"' in page.text and "(year)" in page.text
    assert "年份须为2030, 2060之一" in page.text


def test_what_it_takes_lists_the_lever_changes_and_their_cost(web_env):
    _, service = _outputs(["BAU"])
    if "Neutrality" not in service.shipped_names():
        page = web_env.get("/pathways/what-it-takes")
        assert page.status_code == 200 and 'data-unavailable="what-it-takes"' in page.text
        pytest.skip("the Neutrality scenario is not shipped on this branch")
    page = web_env.get("/pathways/what-it-takes", params={"lang": "en"})
    assert page.status_code == 200 and 'class="errors"' not in page.text
    plan, neutral = service.base_scenario("Plan"), service.base_scenario("Neutrality")
    defaults = {lv.id: lv.default for lv in service.model().levers}
    changed = {k for k, d in defaults.items()
               if abs(neutral.levers.get(k, d) - plan.levers.get(k, d)) > 1e-9 * max(1.0, abs(d))}
    shown = set(re.findall(r'data-lever="([^"]+)"', page.text))
    assert shown and shown == changed
    outputs, _ = _outputs(["Plan", "Neutrality"])
    diff = float(re.search(r'data-npv-diff="([^"]+)"', page.text).group(1))
    assert diff == pytest.approx(float(outputs.npv()[1] - outputs.npv()[0]), rel=1e-9)
    assert 'data-annual="2030"' in page.text and 'data-annual="2060"' in page.text
    zh = web_env.get("/pathways/what-it-takes").text
    assert "实现的目标数" in zh and "政策杠杆调整" in zh and "亿元/年" in zh


def test_the_macc_of_bau_settings_is_the_default_scenario_curve(web_env):
    """BAU against BAU abates nothing: the view draws the default scenario's curve (Neutrality, else Enhanced)."""
    page = web_env.get("/pathways/macc", params={"scenario": "BAU", "year": 2030, "lang": "en"})
    assert page.status_code == 200 and 'class="errors"' not in page.text
    assert len(_chart(page.text, "pw-macc")["bars"]) >= 5
    assert "Neutrality" in page.text or "Enhanced" in page.text


def test_the_cost_chart_of_bau_settings_shows_the_default_scenario(web_env):
    page = web_env.get("/pathways/costs", params={"scenario": "BAU", "lang": "en"}).text
    chart = _chart(page, "pw-cost-sectors")
    assert any(v != 0 for s in chart["series"] for v in s["data"])  # not BAU against itself


@pytest.mark.parametrize("path", ["/pathways/costs", "/pathways/macc?year=2030", "/pathways/what-it-takes"])
def test_the_new_views_keep_the_page_roles(web_env, path):
    assert web_env.get(path, user="district-a").status_code == 403
    assert web_env.get(path, user="enterprise-x").status_code == 403
    anonymous = web_env.get(path, user=None)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]


@pytest.mark.parametrize(("method", "path", "marker"), [
    ("costs", "/pathways/costs", "costs"), ("macc", "/pathways/macc?year=2030", "macc"),
    ("what_it_takes", "/pathways/what-it-takes", "what-it-takes")])
def test_a_view_without_its_service_says_the_data_is_not_available(web_env, monkeypatch, method, path, marker):
    from citycarbon.services.pathways import PathwayService

    monkeypatch.delattr(PathwayService, method)
    page = web_env.get(path)
    assert page.status_code == 200 and f'data-unavailable="{marker}"' in page.text and "本服务器尚无" in page.text


# issue 17 (webunc): the MACC with the ensemble's p5–p95, the registry by technology beside the lever path (readers
# of the registry only), the by-sector LMDI beside the wedges with the wedges' total -----------------------------
def test_macc_bars_carry_the_ensembles_p5_to_p95_as_whiskers(web_env):
    from citycarbon.web.routes.pathways import MACC_RUNS, MACC_SEED

    page = web_env.get("/pathways/macc", params={"scenario": "Plan", "year": 2030, "lang": "en"})
    assert page.status_code == 200 and 'class="errors"' not in page.text
    bars = _chart(page.text, "pw-macc")["bars"]
    assert len(bars) >= 5
    for b in bars:
        assert b["mac_p5"] <= b["mac_p50"] <= b["mac_p95"], b
        assert b["abatement_p5"] <= b["abatement_p95"]
    assert any(b["mac_p5"] < b["mac_p95"] for b in bars)  # the ensemble moves the costs
    rows = re.findall(r'data-mac-p5="([^"]*)" data-mac-p50="([^"]*)" data-mac-p95="([^"]*)"', page.text)
    assert len(rows) == len(bars) and all(float(a) <= float(m) <= float(z) for a, m, z in rows)
    note = re.search(r'data-runs="(\d+)" data-seed="(\d+)"', page.text)
    assert note and (int(note.group(1)), int(note.group(2))) == (MACC_RUNS, MACC_SEED)
    assert "5th to 95th percentile of 200 ensemble runs" in page.text
    zh = web_env.get("/pathways/macc", params={"scenario": "Plan", "year": 2060}).text
    assert "第5–95百分位" in zh and "次集合模拟" in zh


def _registry_block() -> dict:
    return {"connected": {"wind_offshore": {"2024": 1200.0, "2025": 1500.0}, "solar_utility": {"2025": 900.0}},
            "pipeline": {"wind_offshore": {"2026": 400.0, "2028": 600.0}, "solar_distributed": {"2027": 50.0}},
            "undated_mw": 30.0, "undated_by_technology": {"solar_utility": 30.0}, "last_year": 2025,
            "statistics_year": 2024, "starting_line": True, "unit": "MW"}


def test_the_registry_pipeline_by_technology_is_shown_to_its_readers_only(web_env, monkeypatch):
    from citycarbon.auth.principal import Principal
    from citycarbon.services.pathways import PathwayService

    plain = web_env.get("/pathways/results", params={"scenario": "Plan", "lang": "en"})
    assert "data-registry-tech" not in plain.text  # the shared web store has no registry block in its runs
    original = PathwayService.run_document

    def with_registry(self, scenario):
        return {**original(self, scenario), "registry": _registry_block()}

    monkeypatch.setattr(PathwayService, "run_document", with_registry)
    page = web_env.get("/pathways/results", params={"scenario": "Plan", "lang": "en"}, user="viewer")
    assert page.status_code == 200 and 'class="errors"' not in page.text
    rows = {t: (c, b) for t, c, b in re.findall(
        r'data-registry-tech="([a-z_]+)" data-connected="([^"]*)" data-by-2030="([^"]*)"', page.text)}
    assert set(rows) == {"wind_onshore", "wind_offshore", "solar_utility", "solar_distributed"}
    assert float(rows["wind_offshore"][0]) == 1500.0 and float(rows["wind_offshore"][1]) == 2500.0  # + 400 + 600
    assert float(rows["solar_distributed"][1]) == 50.0
    for header in ("Grid-connected, 2025", "Pipeline, expected 2026", "Pipeline, expected 2028", "Offshore wind"):
        assert header in page.text
    zh = web_env.get("/pathways/results", params={"scenario": "Plan"}).text
    assert "海上风电" in zh and "储备项目（预计2026年并网）" in zh
    # the scenario's own path beside it: the model's offshore wind capacity in 2025 and 2030
    service = PathwayService("dalian")
    model = service.model()
    outputs = model.evaluate(model.vector(service.resolve("Plan"))[None, :])
    series, years = outputs.series["capacity_wind_offshore_mw"][0], [int(y) for y in outputs.years]
    path = re.search(r'data-registry-tech="wind_offshore"[^>]*data-path="([^"]*)"', page.text).group(1)
    assert [float(v) for v in path.split(",")] == pytest.approx(
        [series[years.index(2025)], series[years.index(2030)]])
    monkeypatch.setattr(Principal, "can_read_energy_projects", lambda self: False)
    hidden = web_env.get("/pathways/results", params={"scenario": "Plan", "lang": "en"}, user="viewer")
    assert hidden.status_code == 200 and "data-registry-tech" not in hidden.text


def test_the_lmdi_by_sector_beside_the_wedges_adds_up_to_the_wedges_total(web_env):
    from citycarbon.services.pathways import PathwayService

    page = web_env.get("/pathways/wedges", params={"scenario": "Plan", "lmdi_year": 2030, "lang": "en"})
    assert page.status_code == 200 and 'class="errors"' not in page.text
    check = re.search(r'data-lmdi-total="([^"]+)" data-wedges-total="([^"]+)"', page.text)
    total, wedges = float(check.group(1)), float(check.group(2))
    service = PathwayService("dalian")
    shapley = service.attribution(service.base_scenario("BAU"), service.resolve("Plan"))
    doc = shapley.to_dict()
    index = doc["wedges"]["years"].index(2030)
    by_groups = -sum(doc["wedges"]["avoided"][g["group"]][index] for g in doc["groups"])
    assert total == pytest.approx(wedges, rel=1e-9) and total == pytest.approx(by_groups, rel=1e-6)
    parts = [float(v) for v in re.findall(r'data-lmdi-(?:sector|term)="[a-z_]+" data-value="([^"]+)"', page.text)]
    assert len(parts) == 8 and sum(parts) == pytest.approx(total, rel=1e-9)  # sectors + process, CCUS, supply
    assert "Total = total of the measure wedges" in page.text and "Energy intensity" in page.text
    zh = web_env.get("/pathways/wedges", params={"scenario": "Plan", "lmdi_year": 2060}).text
    assert "合计 = 措施楔形合计" in zh and 'data-lmdi-year="2060"' in zh and "居民生活" in zh


@pytest.mark.parametrize("year", ["2045", "abc", "-1", "99999999999999999999"])
def test_a_bad_lmdi_year_gets_the_designed_message(web_env, year):
    page = web_env.get("/pathways/wedges", params={"scenario": "Plan", "lmdi_year": year})
    assert page.status_code == 200 and 'class="errors"' in page.text
    assert "LMDI分解的年份须为" in page.text


def test_the_new_tables_speak_the_page_language(web_env, monkeypatch):
    """The registry table (shown here through a run document with a registry block), the LMDI table and the
    MACC's ranges: no English sentence or raw identifier on the Chinese page, no Chinese of ours on the English."""
    from citycarbon.services.pathways import PathwayService
    from tests.web.test_i18n_pages import HAN, problems_in, visible_text

    original = PathwayService.run_document
    monkeypatch.setattr(PathwayService, "run_document",
                        lambda self, scenario: {**original(self, scenario), "registry": _registry_block()})
    for path, params in (("/pathways/results", {"scenario": "Plan"}),
                         ("/pathways/wedges", {"scenario": "Plan", "lmdi_year": 2030}),
                         ("/pathways/macc", {"scenario": "Plan", "year": 2030})):
        zh = web_env.get(path, params={**params, "lang": "zh_CN"}, headers={"HX-Request": "true"}).text
        found = [p for text in visible_text(zh) for p in problems_in(text)]
        assert not found, (path, found)
        en = web_env.get(path, params={**params, "lang": "en"}, headers={"HX-Request": "true"}).text
        ours = [t for t in visible_text(en, skip_lang="zh") if HAN.search(t)]
        if path == "/pathways/macc":  # the lever names of the English page are English
            assert not ours, ours
        else:
            assert not [t for t in ours if any(w in t for w in ("储备", "分解", "合计", "风电", "光伏", "行业"))], ours


def test_the_macc_axis_is_set_by_the_substantial_bars():
    from citycarbon.web.routes.pathways import _macc_axis

    bars = [{"abatement": 0.001, "mac": -4.8e7}, {"abatement": 100.0, "mac": -500.0},
            {"abatement": 50.0, "mac": 1500.0}]
    # span 2 000, a tenth of it each side (−700 … 1 700; span 2 400), rounded outwards to multiples of 500
    assert _macc_axis(bars) == {"y_min": -1000.0, "y_max": 2000.0}
    assert _macc_axis([{"abatement": 10.0, "mac": 200.0}]) == {"y_min": 0.0, "y_max": 250.0}  # 220 → 50s
    assert _macc_axis([]) == {}
