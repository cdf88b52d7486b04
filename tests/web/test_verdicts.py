"""The peak judgement and the neutrality verdict are the same on every page (issue 13 item 5): the partial
``partials/peak_verdict.html`` on the cockpit, targets, accounting and pathways pages carries the same
``data-`` attributes; target cards show CO2 on both bases, the deciding basis and the figure's origin; charts
state their basis. Relations only (the Dalian data are being recalibrated)."""

from __future__ import annotations

import re

import pytest

PAGES = ("/", "/targets", "/accounting", "/pathways")
ATTRIBUTES = ("data-peak-year", "data-peak-basis", "data-peak-level", "data-neutrality-reached",
              "data-neutrality-basis", "data-neutrality-level")


def verdict_attributes(html: str) -> dict[str, str]:
    match = re.search(r"<section[^>]*data-peak-verdict[^>]*>", html, re.S)
    assert match, "the peak verdict partial is missing"
    tag = match.group(0)
    return {name: re.search(rf'{name}="([^"]*)"', tag).group(1) for name in ATTRIBUTES}


@pytest.mark.parametrize("user", ["admin", "viewer"])
def test_the_verdict_is_the_same_on_every_page(web_env, user):
    found = {}
    for path in PAGES:
        answer = web_env.get(path, user=user)
        assert answer.status_code == 200, (path, answer.status_code)
        found[path] = verdict_attributes(answer.text)
    first = found["/"]
    assert first["data-peak-year"].isdigit()
    assert first["data-peak-basis"] in ("net_inflow", "consumption")
    assert first["data-neutrality-reached"] in ("true", "false")
    if first["data-neutrality-reached"] == "false":
        assert first["data-neutrality-level"] != "3"
    assert all(values == first for values in found.values()), found


def test_the_verdict_matches_the_status_api(web_env):
    html = web_env.get("/").text
    attributes = verdict_attributes(html)
    report = web_env.client.app.state.results
    from citycarbon.services.tracking import status_report

    data = report.city_data(report.version())
    headline = status_report(max(data.years), city=data.city, data=data)["headline"]
    assert attributes["data-peak-year"] == str(headline["peak"]["peak_year"])
    assert attributes["data-peak-basis"] == headline["peak"]["deciding_basis"]
    assert attributes["data-neutrality-reached"] == ("true" if headline["neutrality"]["reached"] else "false")


def test_cards_show_both_bases_the_deciding_basis_and_the_origin(web_env):
    html = web_env.get("/", headers={"Accept-Language": "zh-CN"}).text
    card = html[html.index('id="target-co2_peak_2030"'):]
    card = card[:card.index("</article>")]
    assert 'data-basis="net_inflow"' in card and 'data-basis="consumption"' in card
    assert "data-deciding-basis=" in card and "评价口径" in card
    assert re.search(r'data-origin="(official|reported|estimated)"', card)
    assert "两种口径的二氧化碳排放" in html and "占能源消费总量的比重" in html
    assert "达峰判定与碳中和判定" in html


def test_pathways_scenario_neutrality_uses_the_one_judgement(web_env):
    html = web_env.get("/pathways").text
    match = re.search(r'data-scenario-neutrality="([^"]*)"', html)
    assert match and match.group(1) in ("true", "false")
    net = re.search(r'data-kpi="net_co2_2060" data-value="([^"]*)"', html).group(1)
    assert (float(net) <= 0) == (match.group(1) == "true")
