"""``/api/v1/assessments/…`` (issue 16 item 5): the office runs the year over the seeded registry's districts and
pilot zones (fake collectors: every unit 81.00 under the hand-worked ``handtest`` scheme), adjusts a qualitative
item with a reason, a district objects to its own row, the office answers and publishes; the scope of each role."""

from __future__ import annotations

import pytest

from tests.assessment.runs_support import SCHEME, uniform_collectors

BASE = "/api/v1/assessments"


@pytest.fixture
def env(backend_env):
    with uniform_collectors():
        yield backend_env


def _post(env, path, user="admin", **kwargs):
    return env.client.post(BASE + path, headers=env.headers(user, "write"), **kwargs)


def _register(env):
    answer = _post(env, "/schemes", files={"file": ("handtest.yaml", SCHEME.encode(), "application/yaml")})
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def test_the_office_runs_adjusts_and_publishes(env):
    scheme = _register(env)
    assert scheme["code"] == "handtest" and scheme["base_points"] == "100.00"
    bad = _post(env, "/schemes", files={"file": ("again.yaml", SCHEME.encode(), "application/yaml")})
    assert bad.status_code == 422 and "again.yaml" in bad.text  # version 1 exists: the file is named
    answer = _post(env, "/runs", json={"year": 2024, "scheme": "handtest"})
    assert answer.status_code == 201, answer.text
    board = answer.json()["data"]
    run_id, version = board["run"]["id"], board["run"]["version"]
    rows = board["rows"]
    assert len(rows) >= 10 and {r["total"] for r in rows} == {"81.00"}
    assert [r["unit_code"] for r in rows] == sorted(r["unit_code"] for r in rows)  # ties by unit code
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert next(r for r in rows if r["unit_code"] == "d210203")["estimate"]
    # the district's user sees its own row only; the other district's row is 404
    own = env.get(f"{BASE}/runs/{run_id}", "district-a").json()["data"]
    assert [r["unit_code"] for r in own["rows"]] == ["d210202"] and own["complete"] is False
    assert env.get(f"{BASE}/runs/{run_id}/units/d210203", "district-a").status_code == 404
    assert env.get(f"{BASE}/runs/{run_id}", "viewer", "read").status_code == 404
    assert env.get(f"{BASE}/runs/{run_id}", "enterprise-x").status_code == 404
    assert env.get(f"{BASE}/runs", "enterprise-x").status_code == 403
    # the office adjusts a qualitative item with a reason
    adjusted = _post(env, f"/runs/{run_id}/units/d210202/adjust",
                     json={"indicator": "q", "points": "19.5", "reason": "组织领导有力", "version": version})
    assert adjusted.status_code == 200, adjusted.text
    assert adjusted.json()["data"]["total"] == "85.50" and adjusted.json()["data"]["rank"] == 1
    stale = _post(env, f"/runs/{run_id}/units/d210202/adjust",
                  json={"indicator": "q", "points": "10", "reason": "x", "version": version})
    assert stale.status_code == 409
    assert _post(env, f"/runs/{run_id}/units/d210202/adjust", "analyst",
                 json={"indicator": "q", "points": "10", "reason": "x", "version": version + 1}).status_code == 403
    # the district objects; the office answers; publication
    objection = _post(env, f"/runs/{run_id}/units/d210202/objections", "district-a",
                      json={"text": "请核实在线监测覆盖率", "indicator": "a"})
    assert objection.status_code == 201, objection.text
    assert _post(env, f"/runs/{run_id}/units/d210203/objections", "district-a",
                 json={"text": "x"}).status_code == 404
    blocked = _post(env, f"/runs/{run_id}/publish", json={"version": version + 1, "note": "提前", "early": True})
    assert blocked.status_code == 409
    oid = objection.json()["data"]["id"]
    answered = _post(env, f"/runs/{run_id}/objections/{oid}/answer",
                     json={"decision": "rejected", "answer": "以监测平台记录为准"})
    assert answered.status_code == 200 and answered.json()["data"]["state"] == "rejected"
    assert _post(env, f"/runs/{run_id}/publish", json={"version": version + 1}).status_code == 409  # period
    published = _post(env, f"/runs/{run_id}/publish", json={"version": version + 1, "note": "各单位已确认",
                                                            "early": True})
    assert published.status_code == 200, published.text
    assert published.json()["data"]["run"]["state"] == "published"
    frozen = _post(env, f"/runs/{run_id}/units/d210202/adjust",
                   json={"indicator": "q", "points": "10", "reason": "x", "version": version + 2})
    assert frozen.status_code == 409
    # published: every role but enterprise reads the whole board and the breakdown
    for user, scope in (("viewer", "read"), ("district-b", "write")):
        seen = env.get(f"{BASE}/runs/{run_id}", user, scope)
        assert seen.status_code == 200 and len(seen.json()["data"]["rows"]) == len(rows)
    detail = env.get(f"{BASE}/runs/{run_id}/units/d210202", "viewer", "read").json()["data"]
    assert next(i for i in detail["items"] if i["code"] == "a")["fact"]["value"] == 0.8
    assert detail["objections"] == []  # objections are the office's and the unit's business
    assert env.get(f"{BASE}/runs/latest?year=2024&scheme=handtest", "viewer", "read").json()["data"]["run"][
        "id"] == run_id
    check = env.get(f"{BASE}/runs/{run_id}/reproduce").json()["data"]
    assert check["same"] is True
    listed = env.get(f"{BASE}/runs?year=2024", "viewer", "read").json()["data"]
    assert [r["id"] for r in listed] == [run_id]
    assert _post(env, "/runs", json={"year": 2024, "scheme": "handtest"}).status_code == 409


def test_bad_input(env):
    _register(env)
    assert _post(env, "/runs", json={"year": 2024, "scheme": "nope"}).status_code == 422
    assert _post(env, "/runs", json={"year": 2024, "scheme": "handtest", "ledger_version": 10**9}).status_code == 422
    assert _post(env, "/runs", "analyst", json={"year": 2024, "scheme": "handtest"}).status_code == 403
    run = _post(env, "/runs", json={"year": 2024, "scheme": "handtest"}).json()["data"]["run"]
    answer = _post(env, f"/runs/{run['id']}/units/d210202/adjust",
                   json={"indicator": "a", "points": "10", "reason": "x", "version": run["version"]})
    assert answer.status_code == 422 and "indicator" in answer.text
    assert env.get(f"{BASE}/runs/999999").status_code == 404
    assert env.get(f"{BASE}/runs/{run['id']}/units/nope").status_code == 404
