"""Pathways over HTTP: envelopes of levers/scenarios/run, what-if by code, bad levers (422 naming the field and
the nearest lever), an ensemble job polled to its result, attributions, the IAMC download, permissions."""

from __future__ import annotations

import io

import pandas as pd
import pytest

API = "/api/v1/pathways"


def test_levers_and_scenarios_envelopes(api_env):
    levers = api_env.get(f"{API}/levers", user="viewer", scope="read")
    assert levers.status_code == 200
    body = levers.json()
    assert set(body) == {"meta", "data"} and body["meta"]["method"]
    ids = {row["id"] for row in body["data"]}
    assert {"wind_onshore_2030_mw", "ccus_2060_mt", "ev_share_2050"} <= ids
    wind = next(r for r in body["data"] if r["id"] == "wind_onshore_2030_mw")
    assert wind["group"] == "3" and wind["group_title_zh"] and wind["min"] < wind["plan"] <= wind["max"]
    scenarios = api_env.get(f"{API}/scenarios", user="viewer", scope="read").json()["data"]
    names = [s["name"] for s in scenarios]
    assert names[:3] == ["BAU", "Plan", "Enhanced"]
    assert all(len(s["code"]) == 10 for s in scenarios)


def test_run_has_the_issue_shape_and_provenance(api_env):
    answer = api_env.get(f"{API}/run", params={"scenario": "Plan"}, user="analyst", scope="read")
    assert answer.status_code == 200
    data, meta = answer.json()["data"], answer.json()["meta"]
    assert {"scenario", "code", "years", "series", "peak_year", "peak_value", "targets"} <= set(data)
    assert data["years"][0] == 2020 and data["years"][-1] == 2060
    assert len(data["series"]["co2_emissions_t"]) == 41
    assert meta["method_version"].startswith("citycarbon.pathways")
    assert meta["parameters"]["levers"]["wind_onshore_2030_mw"] == data["levers"]["wind_onshore_2030_mw"]
    scenarios = {s["name"]: s["code"] for s in api_env.get(f"{API}/scenarios").json()["data"]}
    assert data["code"] == scenarios["Plan"]


def test_what_if_changes_the_code_and_lowers_co2_and_round_trips_by_code(api_env):
    plan = api_env.get(f"{API}/run", params={"scenario": "Plan"}).json()["data"]
    what_if = api_env.get(f"{API}/run", params=[("scenario", "Plan"), ("set", "ccus_2060_mt:4"),
                                                ("set", "offshore_wind_2030_mw:5000")]).json()["data"]
    assert what_if["code"] != plan["code"]
    assert what_if["series"]["co2_emissions_t"][-1] < plan["series"]["co2_emissions_t"][-1]
    posted = api_env.client.post(f"{API}/run", headers=api_env.headers("admin"),
                                 json={"scenario": "Plan", "levers": {"ccus_2060_mt": 4,
                                                                      "offshore_wind_2030_mw": 5000}})
    assert posted.status_code == 200 and posted.json()["data"]["code"] == what_if["code"]
    # by code from the server's memory, and from the settings a share link carries
    by_code = api_env.get(f"{API}/scenarios/{what_if['code']}").json()["data"]
    assert by_code["series"] == what_if["series"]
    api_env.client.app.state.pathways.forget_codes()  # as after a restart
    assert api_env.get(f"{API}/scenarios/{what_if['code']}").status_code == 404
    shared = [("scenario", "Plan"), ("set", "ccus_2060_mt:4"), ("set", "offshore_wind_2030_mw:5000")]
    carried = api_env.get(f"{API}/scenarios/{what_if['code']}", params=shared)
    assert carried.status_code == 200 and carried.json()["data"]["code"] == what_if["code"]
    wrong = api_env.get(f"{API}/scenarios/{what_if['code']}", params={"scenario": "BAU"})
    assert wrong.status_code == 422 and wrong.json()["error"]["problems"][0]["field"] == "code"
    # a shipped scenario's code is always known
    assert api_env.get(f"{API}/scenarios/{plan['code']}").status_code == 200


@pytest.mark.parametrize(("params", "field", "suggestion"), [
    ([("set", "ccus_2060:3")], "levers.ccus_2060", "ccus_2060_mt"),
    ([("set", "ccus_2060_mt:99")], "levers.ccus_2060_mt", None),
    ([("set", "ccus_2060_mt:lots")], "levers.ccus_2060_mt", None),
    ([("scenario", "Plam")], "scenario", "Plan"),
])
def test_bad_lever_or_scenario_is_422_naming_the_field(api_env, params, field, suggestion):
    answer = api_env.get(f"{API}/run", params=params)
    assert answer.status_code == 422
    problem = answer.json()["error"]["problems"][0]
    assert problem["field"] == field
    if suggestion:
        assert suggestion in problem["suggestion"]


def test_bad_lever_in_a_body_is_422(api_env):
    answer = api_env.client.post(f"{API}/run", headers=api_env.headers("admin"),
                                 json={"scenario": "Plan", "levers": {"wind_onshore_2030": 3000}})
    assert answer.status_code == 422
    problem = answer.json()["error"]["problems"][0]
    assert problem["field"] == "levers.wind_onshore_2030" and "wind_onshore_2030_mw" in problem["suggestion"]


def test_small_ensemble_answers_directly_and_a_job_is_polled_to_its_result(api_env):
    direct = api_env.client.post(f"{API}/ensembles", headers=api_env.headers("viewer", "read"),
                                 json={"scenario": "Plan", "runs": 50, "seed": 1})
    assert direct.status_code == 200
    data = direct.json()["data"]
    assert 0.0 <= data["p_peak_by_2030"] <= 1.0 and data["runs"] == 50
    queued = api_env.client.post(f"{API}/ensembles", headers=api_env.headers("analyst", "read"),
                                 json={"scenario": "Plan", "runs": 50, "seed": 1, "job": True})
    assert queued.status_code == 202
    job_id = queued.json()["data"]["job_id"]
    api_env.client.app.state.jobs.wait()
    job = api_env.get(f"/api/v1/jobs/{job_id}", user="analyst", scope="read").json()["data"]
    assert job["status"] == "done", job
    assert job["result"]["p_peak_by_2030"] == data["p_peak_by_2030"]  # same seed, same answer
    assert job["kind"] == "pathway_ensemble"


def test_attribution_wedges_sum_to_the_gap(api_env):
    answer = api_env.client.post(f"{API}/attributions", headers=api_env.headers("admin"),
                                 json={"scenario": "Plan", "base": "BAU", "permutations": 20})
    assert answer.status_code == 200
    data = answer.json()["data"]
    total = sum(g["cumulative"] for g in data["groups"])
    assert total == pytest.approx(data["total_cumulative"], rel=1e-9)
    assert data["total_cumulative"] < 0  # the plan cuts cumulative CO2 against BAU


def test_iamc_csv_parses_and_xlsx_opens(api_env):
    csv = api_env.get(f"{API}/export", params=[("scenario", "BAU"), ("scenario", "Plan"), ("format", "csv")])
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"] and ".csv" in csv.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(csv.text))
    assert list(frame.columns) == ["model", "scenario", "region", "variable", "unit", "year", "value"]
    assert set(frame["scenario"]) == {"BAU", "Plan"} and "Emissions|CO2" in set(frame["variable"])
    xlsx = api_env.get(f"{API}/export", params={"scenario": "Plan", "format": "xlsx"})
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["content-type"]
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert book.sheetnames == ["data", "meta"]
    bad = api_env.get(f"{API}/export", params={"format": "pdf"})
    assert bad.status_code == 422
    too_many = api_env.get(f"{API}/export", params=[("scenario", "Plan")] * 9)
    assert too_many.status_code == 422 and too_many.json()["error"]["problems"][0]["field"] == "scenario"


def test_anonymous_is_401_and_viewer_reads(api_env):
    for path in ("/levers", "/scenarios", "/run", "/export"):
        assert api_env.client.get(API + path).status_code == 401
    assert api_env.client.post(f"{API}/run", json={}).status_code == 401
    assert api_env.get(f"{API}/run", user="viewer", scope="read").status_code == 200
    assert api_env.get(f"{API}/run", user="enterprise-x", scope="read").status_code == 200
