"""``GET /api/v1/status`` carries CO2 on both bases (issue 13 item 5): every CO2 and peak target has
``bases: {net_inflow, consumption}`` with figures and levels; the peak and neutrality rows say which basis
decided; the API equals the service on the same ledger version. Relations only (the Dalian data are being
recalibrated)."""

from __future__ import annotations

from citycarbon.tracking.peak import BASES

API = "/api/v1"


def test_status_carries_both_bases(api_env):
    answer = api_env.get(f"{API}/status", user="viewer", scope="read")
    assert answer.status_code == 200, answer.text
    report = answer.json()["data"]
    assert set(report["co2_bases"]) == set(BASES)
    rows = {t["indicator"]: t for t in report["targets"]}
    for indicator in ("co2_peak_year", "net_co2_emissions_t"):
        row = rows[indicator]
        assert set(row["bases"]) == set(BASES)
        assert row["deciding_basis"] in BASES and row["basis_rule"] == "worse"
        assert row["level"] == row["bases"][row["deciding_basis"]]["level"]
    neutrality = rows["net_co2_emissions_t"]
    if neutrality["neutrality"]["reached"] is False:
        assert neutrality["level"] != 3
    headline = report["headline"]
    assert headline["peak"]["peak_year"] == rows["co2_peak_year"]["bases"][
        rows["co2_peak_year"]["deciding_basis"]]["peak"]["peak_year"]
    assert headline["neutrality"]["reached"] == neutrality["neutrality"]["reached"]


def test_status_of_the_api_equals_the_service(api_env):
    from citycarbon.services.tracking import status_report

    results = api_env.client.app.state.results
    version = results.version()
    data = results.city_data(version)
    year = max(data.years)
    answer = api_env.get(f"{API}/status", params={"year": year}, user="admin", scope="read").json()["data"]
    service = status_report(year, city=data.city, data=data)
    assert [(t["id"], t["level"], t.get("deciding_basis")) for t in answer["targets"]] == [
        (t["id"], t["level"], t.get("deciding_basis")) for t in service["targets"]]
    assert answer["co2_bases"] == service["co2_bases"]
