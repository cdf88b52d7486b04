"""The accounting page's energy flow (能流图) and shares: one definition of every share (key figure = table =
chart), the Sankey's totals equal the tables, on both electricity methods, and a no-JS table of the flows.
Dalian: relations only (the dataset is being recalibrated)."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest

CHART_JSON = re.compile(r'<script type="application/json" id="chart-([\w-]+)">(.*?)</script>', re.S)
SANKEY_JSON = re.compile(r'<script type="application/json" id="sankey-energy-flow">(.*?)</script>', re.S)
KPI = re.compile(r'<div class="kpi" data-code="(\w+)"><div class="kpi-name">.*?</div>'
                 r'<div class="kpi-value">(.*?)</div>', re.S)
FUEL_ROW = re.compile(r'<tr data-group="(\w+)">.*?<td class="num share">(.*?)</td>', re.S)
ATTRIBUTE = re.compile(r'data-([\w-]+)="([^"]*)"')
TOTAL_ROW = re.compile(r'<tr data-code="(\w+)"><th scope="row">.*?</th><td class="num" data-value="([^"]+)">', re.S)


def page(web_env, query: str = "") -> str:
    answer = web_env.get(f"/accounting{query}")
    assert answer.status_code == 200, answer.text[:500]
    return answer.text


def sankey_attributes(text: str) -> dict[str, str]:
    tag = re.search(r'<div class="chart sankey" id="energy-flow"[^>]*>', text).group(0)
    return dict(ATTRIBUTE.findall(tag))


@pytest.mark.parametrize("method", ["coal-equivalent", "calorific"])
def test_the_coal_share_is_the_same_in_key_figures_table_and_chart(web_env, method):
    text = page(web_env, f"?year=2020&method={method}")
    kpis = {code: html_lib.unescape(value) for code, value in KPI.findall(text)}
    table = {group: html_lib.unescape(value) for group, value in FUEL_ROW.findall(text)}
    chart = json.loads(dict(CHART_JSON.findall(text))["acc-fuel"])
    assert kpis["coal_share"] == table["coal"]
    for group, value in zip(chart["codes"], chart["series"][0]["data"], strict=True):
        shown = float(table[group].rstrip("%").replace(",", ""))
        assert value == pytest.approx(shown, abs=0.05 + 1e-9), group  # the table rounds to 0.1 %
    assert sum(chart["series"][0]["data"]) == pytest.approx(100.0, abs=0.01)  # one denominator: the total
    assert "占能源消费总量" in chart["basis"] and ("发电煤耗法" in chart["basis"]) == (method == "coal-equivalent")


def test_every_share_equals_the_domain_definition(web_env):
    from citycarbon.accounting.shares import fuel_group_shares
    from citycarbon.services.accounting import account_city

    shares = fuel_group_shares(account_city(2021, source="files"))
    chart = json.loads(dict(CHART_JSON.findall(page(web_env, "?year=2021")))["acc-fuel"])
    for group, value in zip(chart["codes"], chart["series"][0]["data"], strict=True):
        assert value == pytest.approx(shares[group].share * 100, abs=1e-3)
    assert chart["type"] == "bar"  # not a pie: a net outflow's share is negative


@pytest.mark.parametrize("method", ["coal-equivalent", "calorific"])
def test_sankey_totals_equal_the_accounts_and_the_tables(web_env, method):
    from citycarbon.services.accounting import account_city

    text = page(web_env, f"?year=2022&method={method}")
    attributes = sankey_attributes(text)
    accounts = account_city(2022, method=method, source="files")
    total = accounts.indicators["energy_consumption_tce"]
    assert attributes["method"] == method
    assert float(attributes["total-energy-tce"]) == pytest.approx(total, rel=1e-9)
    assert float(attributes["drawn-total-tce"]) == pytest.approx(total, rel=1e-9)
    final = accounts.by_sector[accounts.by_sector["kind"] == "final"]["energy_tce"].sum()
    assert float(attributes["final-use-tce"]) == pytest.approx(final, rel=1e-9)
    totals = dict(TOTAL_ROW.findall(text))
    assert float(totals["total_energy_tce"]) == pytest.approx(total, rel=1e-9)
    spec = json.loads(SANKEY_JSON.search(text).group(1))
    codes = {n["name"] for n in spec["nodes"]}
    assert all(link["source"] in codes and link["target"] in codes and link["value"] > 0 for link in spec["links"])
    assert all(re.search(r"[\u4e00-\u9fff]", n["label"]) for n in spec["nodes"])  # translated, zh_CN first
    assert spec["unit"] == "万tce"


def test_the_method_changes_the_flow_and_the_tables_together(web_env):
    coal_eq = page(web_env, "?year=2022&method=coal-equivalent")
    calorific = page(web_env, "?year=2022&method=calorific")
    a, b = sankey_attributes(coal_eq), sankey_attributes(calorific)
    assert float(a["total-energy-tce"]) != pytest.approx(float(b["total-energy-tce"]), rel=1e-6)
    kpi_a, kpi_b = dict(KPI.findall(coal_eq)), dict(KPI.findall(calorific))
    assert kpi_a["energy_consumption_tce"] != kpi_b["energy_consumption_tce"]
    assert "等价值(发电煤耗法)" in coal_eq and "当量值(电热当量法)" in calorific


def test_no_js_table_lists_the_same_flows(web_env):
    text = page(web_env, "?year=2022")
    spec = json.loads(SANKEY_JSON.search(text).group(1))
    table = re.search(r'<details class="flow-table" open>(.*?)</details>', text, re.S).group(1)
    values = [float(v) for v in re.findall(r'data-value="([^"]+)"', table)]
    assert len(values) == len(spec["links"])
    assert sum(values) / 1e4 == pytest.approx(sum(link["value"] for link in spec["links"]), rel=1e-6)


def test_english_page_names_the_nodes_in_english(web_env):
    text = web_env.get("/accounting?year=2022&lang=en").text
    spec = json.loads(SANKEY_JSON.search(text).group(1))
    assert not any(re.search(r"[\u4e00-\u9fff]", n["label"]) for n in spec["nodes"])
    assert "Energy flow" in text


def test_an_unknown_method_falls_back_to_the_profile(web_env):
    text = page(web_env, "?year=2022&method=bogus")
    assert sankey_attributes(text)["method"] == "coal-equivalent"
