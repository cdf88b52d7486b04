"""issue 17 (api): goal-seek, "what it takes", the ensemble's ``versus`` and the attribution's LMDI over HTTP.

The least-cost seek through the API must give the service's answer on the Dalian files (same levers, same NPV);
"what it takes" lists exactly the levers that differ between the two scenarios' runs; the ensemble with
``versus`` carries the NPV difference percentiles of the service's ensemble on the same draws; bad input is a
422 naming its field; anonymous callers are refused (the routes' rule is ``read``, tests/permissions/matrix.py).
One central least-cost seek (about 1–2 s) is computed through the API and reused."""

from __future__ import annotations

import pytest

from citycarbon.services.pathways import MAX_LEAST_COST_SEEK_RUNS, PathwayService

API = "/api/v1/pathways"


def _post(env, path: str, body: dict, user: str = "admin", scope: str = "write"):
    return env.client.post(f"{API}/{path}", headers=env.headers(user, scope), json=body)


@pytest.fixture(scope="module")
def files_service() -> PathwayService:
    return PathwayService("dalian", source="files")


@pytest.fixture(scope="module")
def least_cost(api_env):
    answer = _post(api_env, "seek", {"scenario": "Plan", "objective": "least-cost"}, user="viewer", scope="read")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_least_cost_seek_equals_the_service_answer_on_the_dalian_files(least_cost, files_service):
    data, meta = least_cost["data"], least_cost["meta"]
    expected = files_service.seek(files_service.base_scenario("Plan"), objective="least-cost").to_dict()
    assert data["objective"] == "least-cost" and data["scenario"] == "Plan"
    assert {lv["name"]: lv["value"] for lv in data["levers"]} == pytest.approx(
        {lv["name"]: lv["value"] for lv in expected["levers"]}, rel=1e-9, abs=1e-9)
    assert data["cost"]["npv_cny"] == pytest.approx(expected["cost"]["npv_cny"], rel=1e-9)
    assert data["binding"] == expected["binding"] and data["feasible"] == expected["feasible"]
    assert set(data["why"]) == set(expected["why"])  # why each unreachable target stays out of reach
    assert isinstance(data["binding_potentials"], list)
    assert "provenance" not in data and meta["method_version"]


def test_the_same_seek_is_answered_from_the_service_memory(api_env, least_cost):
    again = _post(api_env, "seek", {"scenario": "plan"})  # case-insensitive name: the same scenario code
    assert again.status_code == 200 and again.json()["data"] == least_cost["data"]


def test_job_true_queues_a_central_seek_with_the_same_answer(api_env, least_cost):
    queued = _post(api_env, "seek", {"scenario": "Plan", "job": True})
    assert queued.status_code == 202 and queued.json()["data"]["code"] == least_cost["data"]["code"]
    api_env.client.app.state.jobs.wait()
    job = api_env.get(f"/api/v1/jobs/{queued.json()['data']['job_id']}").json()["data"]
    assert job["status"] == "done" and job["result"]["levers"] == least_cost["data"]["levers"]
    assert job["result"]["cost"] == least_cost["data"]["cost"]


def test_a_seek_with_a_probability_is_a_job_with_the_service_answer(api_env):
    body = {"scenario": "Plan", "objective": "distance", "probability": 0.5, "runs": 5, "seed": 3,
            "targets": ["non_fossil_share_2030"]}
    queued = _post(api_env, "seek", body, user="analyst", scope="read")
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["data"]["job_id"]
    api_env.client.app.state.jobs.wait()
    job = api_env.get(f"/api/v1/jobs/{job_id}", user="analyst", scope="read").json()["data"]
    assert job["status"] == "done", job
    assert job["kind"] == "pathway_seek"
    service = api_env.client.app.state.pathways
    expected = service.seek_document(service.resolve("Plan"), objective="distance", probability=0.5, runs=5, seed=3,
                                     targets=["non_fossil_share_2030"])
    assert job["result"]["levers"] == expected["levers"] and job["result"]["probability"] == 0.5
    assert [t["id"] for t in job["result"]["targets"]] == ["non_fossil_share_2030"]


def test_what_it_takes_lists_exactly_the_levers_that_change(api_env):
    answer = api_env.get(f"{API}/what-it-takes", params={"base": "Plan", "target": "Neutrality"}, user="viewer",
                         scope="read")
    assert answer.status_code == 200
    data = answer.json()["data"]
    plan = api_env.get(f"{API}/run", params={"scenario": "Plan"}).json()["data"]["levers"]
    neutrality = api_env.get(f"{API}/run", params={"scenario": "Neutrality"}).json()["data"]["levers"]
    changed = {k for k in plan if abs(plan[k] - neutrality[k]) > 1e-12 * max(abs(plan[k]), 1.0)}
    assert changed and {lv["id"] for lv in data["levers"]} == changed
    for lever in data["levers"]:
        assert (lever["base"], lever["target"]) == (plan[lever["id"]], neutrality[lever["id"]])
    npv = data["cost"]["npv"]
    assert npv["target_vs_base"] == pytest.approx(npv["target"] - npv["base"], rel=1e-12)
    assert (data["base"]["name"], data["target"]["name"]) == ("Plan", "Neutrality")
    same = api_env.get(f"{API}/what-it-takes", params={"base": "Enhanced", "target": "enhanced"}).json()["data"]
    assert same["levers"] == [] and same["cost"]["npv"]["target_vs_base"] == 0.0


def test_ensemble_versus_gives_the_npv_difference_percentiles(api_env):
    answer = _post(api_env, "ensembles", {"scenario": "Plan", "runs": 40, "seed": 2, "versus": "bau"},
                   user="viewer", scope="read")
    assert answer.status_code == 200, answer.text
    versus = answer.json()["data"]["costs"]["versus"]
    service = api_env.client.app.state.pathways
    expected = service.ensemble(service.resolve("Plan"), 40, 2, versus=service.base_scenario("BAU")).to_dict()
    assert versus["scenario"] == "BAU"
    assert versus["npv_difference_cny"] == expected["costs"]["versus"]["npv_difference_cny"]
    assert set(versus["npv_difference_cny"]) >= {"p5", "p50", "p95"}
    assert 0.0 <= versus["p_cheaper"] <= 1.0
    plain = _post(api_env, "ensembles", {"scenario": "Plan", "runs": 40, "seed": 2}).json()["data"]
    assert not plain["costs"].get("versus")


def test_attribution_with_lmdi_by_sector(api_env):
    answer = _post(api_env, "attributions", {"scenario": "Plan", "base": "BAU", "permutations": 10, "lmdi": 2030,
                                             "lmdi_period": 2040})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    between = data["lmdi_between"]
    assert between["by_sector"] and between["wedges_difference"] == pytest.approx(0.0, abs=1e-6 * max(
        abs(between["wedges_total"]), 1.0))
    assert data["lmdi_by_sector"] and data["lmdi"]["to"] == 2040


@pytest.mark.parametrize(("path", "body", "field"), [
    ("seek", {"scenario": "Plam"}, "scenario"),
    ("seek", {"objective": "cheapest"}, "objective"),
    ("seek", {"targets": ["neutrality_2061"]}, "targets"),
    ("seek", {"targets": []}, "targets"),
    ("seek", {"probability": 0}, "probability"),
    ("seek", {"probability": 1.5}, "probability"),
    ("seek", {"runs": 0}, "runs"),
    ("seek", {"probability": 0.8, "runs": MAX_LEAST_COST_SEEK_RUNS + 1}, "runs"),
    ("seek", {"probability": 0.8, "job": False}, "job"),
    ("seek", {"levers": {"ccus_2060_mtt": 1}}, "levers.ccus_2060_mtt"),
    ("ensembles", {"runs": 20, "versus": "BUA"}, "versus"),
    ("ensembles", {"runs": 20, "versus": "../../etc/passwd"}, "versus"),
    ("attributions", {"lmdi": 2020}, "lmdi"),
    ("attributions", {"lmdi_period": 2061}, "lmdi_period"),
])
def test_bad_input_is_422_naming_the_field(api_env, path, body, field):
    answer = _post(api_env, path, body)
    assert answer.status_code == 422, answer.text
    assert field in {p.get("field") for p in answer.json()["error"]["problems"]}


@pytest.mark.parametrize(("params", "field"), [({"base": "Plam"}, "base"), ({"target": "Neutral"}, "target")])
def test_what_it_takes_bad_names_are_422_naming_the_field(api_env, params, field):
    answer = api_env.get(f"{API}/what-it-takes", params=params)
    assert answer.status_code == 422
    problem = answer.json()["error"]["problems"][0]
    assert problem["field"] == field and problem["suggestion"]


def test_anonymous_callers_are_refused(api_env):
    assert api_env.client.post(f"{API}/seek", json={}).status_code == 401
    assert api_env.client.get(f"{API}/what-it-takes").status_code == 401
