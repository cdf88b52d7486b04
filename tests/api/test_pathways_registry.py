"""The run over HTTP carries the energy-project registry as its starting line (issue 17): the ``registry``
section for callers who read the registry, none for enterprise users (who may not)."""

from __future__ import annotations

from citycarbon.services.projects import energy_projects as svc
from tests.projects.support import CITY, OFFICE, ZHUANGHE

API = "/api/v1/pathways"


def test_the_run_carries_the_registry_for_readers_only(fresh_env):
    before = fresh_env.get(f"{API}/run", params={"scenario": "Plan"}, user="analyst", scope="read")
    assert before.status_code == 200 and "registry" not in before.json()["data"]
    svc.register_energy_project(fresh_env.db, OFFICE, CITY, {
        "name": "庄河海上风电", "technology": "wind_offshore", "region_code": ZHUANGHE, "capacity_mw": 300.0,
        "stage": "grid_connected", "grid_connected_on": "2025-06-01"})
    fresh_env.client.app.state.results.refresh()  # the registry's version is read with the ledger's
    after = fresh_env.get(f"{API}/run", params={"scenario": "Plan"}, user="analyst", scope="read").json()["data"]
    registry = after["registry"]
    assert registry["last_year"] == 2025 and registry["starting_line"] is True
    offshore = registry["connected"]["wind_offshore"]
    assert offshore["2025"] == offshore["2024"] + 300.0
    index = after["years"].index(2025)
    assert after["series"]["wind_solar_capacity_mw"][index] != before.json()["data"]["series"][
        "wind_solar_capacity_mw"][index]
    hidden = fresh_env.get(f"{API}/run", params={"scenario": "Plan"}, user="enterprise-x", scope="read")
    assert hidden.status_code == 200 and "registry" not in hidden.json()["data"]
