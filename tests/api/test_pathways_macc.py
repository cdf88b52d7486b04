"""issue 17 (macc): the MACC and the scenarios' costs over HTTP (envelopes, shapes, bad input names its field)."""

from __future__ import annotations

import pytest

API = "/api/v1/pathways"


def test_macc_envelope_sorted_by_mac_with_provenance(api_env):
    answer = api_env.get(f"{API}/macc", params={"year": 2030, "scenario": "Enhanced"}, user="viewer", scope="read")
    assert answer.status_code == 200
    data, meta = answer.json()["data"], answer.json()["meta"]
    assert (data["scenario"], data["base"], data["year"], data["basis"]) == ("Enhanced", "BAU", 2030, "consumption")
    macs = [row["mac_cny_per_t"] for row in data["levers"]]
    assert macs == sorted(macs) and data["levers"][0]["name_zh"]
    total = data["sum_of_levers"]["abatement_t"] + data["interaction_residual"]["abatement_t"]
    assert total == pytest.approx(data["package"]["abatement_t"], rel=1e-9)
    assert "EPS" in meta["method"] or meta["standards"]


def test_macc_with_runs_has_percentiles(api_env):
    data = api_env.get(f"{API}/macc", params={"year": 2060, "scenario": "Enhanced", "runs": 10}).json()["data"]
    assert data["runs"] == 10 and set(data["levers"][0]["percentiles"]["mac_cny_per_t"]) >= {"p5", "p50", "p95"}


@pytest.mark.parametrize(("params", "field"), [
    ({"year": 2020}, "year"), ({"year": 2030, "basis": "gross"}, "basis"), ({"year": 2030, "runs": 5000}, "runs"),
    ({"year": 2030, "scenario": "BAU"}, "scenario"), ({"year": 2030, "base": "Plam"}, "base"),
])
def test_macc_bad_input_is_422_naming_the_field(api_env, params, field):
    answer = api_env.get(f"{API}/macc", params=params)
    assert answer.status_code == 422
    assert field in str(answer.json()["error"])


def test_costs_against_bau(api_env):
    answer = api_env.get(f"{API}/costs", params=[("scenario", "Plan"), ("scenario", "Enhanced")])
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert data["versus"] == "BAU" and [s["scenario"] for s in data["scenarios"]] == ["Plan", "Enhanced"]
    plan = data["scenarios"][0]
    assert len(plan["annual"]["cost_total_cny"]) == len(data["years"])
    bad = api_env.get(f"{API}/costs", params={"versus": "BUA"})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "versus"
    assert plan["npv_vs_versus_cny"] == pytest.approx(plan["npv_cny"] - data["versus_result"]["npv_cny"])
