"""GET /api/v1/energy-flow: the Sankey's totals equal the accounts on both electricity methods (Dalian:
relations only, the dataset is being recalibrated)."""

from __future__ import annotations

import pytest

API = "/api/v1"


def test_energy_flow_totals_equal_the_indicators(api_env):
    indicators = api_env.get(f"{API}/indicators/2022").json()["data"]
    body = api_env.get(f"{API}/energy-flow", params={"year": 2022}).json()
    data, meta = body["data"], body["meta"]
    total = indicators["indicators"]["energy_consumption_tce"]
    assert data["unit"] == "tce" and data["year"] == 2022
    assert data["totals"]["total_energy_tce"] == pytest.approx(total, rel=1e-9)
    assert data["totals"]["drawn_total_tce"] == pytest.approx(total, rel=1e-9)
    assert data["shares"]["coal"]["share"] == pytest.approx(indicators["indicators"]["coal_share"], rel=1e-9)
    assert meta["method_version"].startswith("citycarbon.accounting/")
    codes = {n["code"] for n in data["nodes"]}
    assert {link["source"] for link in data["links"]} <= codes and all(link["value"] > 0 for link in data["links"])


def test_energy_flow_on_the_other_method_equals_that_methods_accounts(api_env):
    from citycarbon.services.accounting import account_city

    both = {m: api_env.get(f"{API}/energy-flow", params={"year": 2021, "method": m}).json()["data"]
            for m in ("coal-equivalent", "calorific")}
    for method, data in both.items():
        assert data["method"] == method
        expected = account_city(2021, method=method, source="files").indicators["energy_consumption_tce"]
        assert data["totals"]["total_energy_tce"] == pytest.approx(expected, rel=1e-9)
    assert both["calorific"]["totals"]["total_energy_tce"] != pytest.approx(
        both["coal-equivalent"]["totals"]["total_energy_tce"], rel=1e-6)


def test_energy_flow_refuses_unknown_year_and_method(api_env):
    assert api_env.get(f"{API}/energy-flow", params={"year": 1990}).status_code == 404
    answer = api_env.get(f"{API}/energy-flow", params={"method": "equivalent"})
    assert answer.status_code == 422
