"""``/api/v1/targets`` and ``/api/v1/cities`` (issue 13 items 2–3) on SQLite and PostgreSQL: the office sets a
value with its document and status rates it; a user scoped to another city is refused (403) on every route."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import ApiEnv

API = "/api/v1"
TARGET = "energy_intensity_reduction_2025"
TOY_PLAN = Path(__file__).parents[1] / "fixtures" / "cities" / "toyville.yaml"
BODY = {"value": 14.5, "unit": "percent", "document": "辽政发〔2022〕12号", "date": "2022-03-01", "note": "十四五"}


def _scoped_token(env: ApiEnv, username: str, city: str) -> dict[str, str]:
    from citycarbon.store import users

    with env.db.session() as session:
        user, _ = users.create_user(session, username=username, role="admin", actor="test")
        user.city = city
        session.flush()
        token = users.issue_token(session, user, "write", "scoped", actor="test")
    return {"Authorization": f"Bearer {token}"}


def test_the_office_sets_a_value_and_status_rates_it(backend_env):
    env = backend_env
    before = env.get(f"{API}/targets").json()["data"]
    assert next(t for t in before if t["id"] == TARGET)["origin"] == "pending"
    answer = env.client.post(f"{API}/targets/{TARGET}/values", json=BODY, headers=env.headers("admin"))
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["value_in_target_unit"] == 0.145
    entry = next(t for t in env.get(f"{API}/targets").json()["data"] if t["id"] == TARGET)
    assert entry["origin"] == "set" and entry["set"]["document"] == BODY["document"]
    assert entry["set"]["recorded_by"] == "admin"
    row = next(r for r in env.get(f"{API}/status").json()["data"]["targets"] if r["id"] == TARGET)
    assert row["target_value"] == 0.145 and row["value_source"]["document_date"] == "2022-03-01"
    history = env.get(f"{API}/targets/{TARGET}/history").json()["data"]
    assert [h["value"] for h in history] == [14.5]


def test_bad_input_and_roles_are_refused(backend_env):
    env = backend_env
    bad = env.client.post(f"{API}/targets/{TARGET}/values", json={**BODY, "unit": "t"}, headers=env.headers("admin"))
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "unit"
    for user, scope in (("analyst", "write"), ("admin", "read"), ("district-a", "write")):
        refused = env.client.post(f"{API}/targets/{TARGET}/values", json=BODY, headers=env.headers(user, scope))
        assert refused.status_code == 403, (user, scope, refused.text)
    assert env.get(f"{API}/targets/{TARGET}/history").json()["data"] == []


def test_two_cities_and_the_city_scope(backend_env):
    env = backend_env
    created = env.client.post(f"{API}/cities", json={"code": "toyville", "plan": TOY_PLAN.read_text("utf-8")},
                              headers=env.headers("admin"))
    assert created.status_code == 201, created.text
    assert created.json()["data"]["missing"] == ["balance", "statistics"]
    again = env.client.post(f"{API}/cities", json={"code": "toyville", "plan": TOY_PLAN.read_text("utf-8")},
                            headers=env.headers("admin"))
    assert again.status_code == 409
    toy = _scoped_token(env, "toy-office", "toyville")
    assert [c["code"] for c in env.client.get(f"{API}/cities", headers=toy).json()["data"]] == ["toyville"]
    assert {c["code"] for c in env.get(f"{API}/cities").json()["data"]} == {"dalian", "toyville"}
    for method, path, body in (("GET", "/targets?city=dalian", None), ("GET", f"/targets/{TARGET}/history", None),
                               ("POST", f"/targets/{TARGET}/values", BODY), ("GET", "/cities/dalian", None),
                               ("POST", f"/targets/{TARGET}/allocations", {**BODY, "district": "210202"}),
                               ("GET", "/status", None), ("GET", "/indicators", None),
                               ("GET", "/statistics", None)):
        answer = env.client.request(method, API + path, json=body, headers=toy)
        assert answer.status_code == 403, (method, path, answer.text)
    own = env.client.post(f"{API}/targets/{TARGET}/values", json={**BODY, "city": "toyville"}, headers=toy)
    assert own.status_code == 201, own.text
    toy_targets = env.client.get(f"{API}/targets?city=toyville", headers=toy).json()["data"]
    assert next(t for t in toy_targets if t["id"] == TARGET)["origin"] == "set"
    dalian = next(t for t in env.get(f"{API}/targets").json()["data"] if t["id"] == TARGET)
    assert dalian["origin"] == "pending"  # toyville's value never becomes Dalian's
    assert env.client.post(f"{API}/cities", json={"code": "other", "plan": "x"}, headers=toy).status_code == 403
