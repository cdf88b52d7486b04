"""HTTP ingest and monitoring reads through the app (SQLite store, enterprise ingest tokens)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pandas as pd
import pytest

from citycarbon.monitoring.lake import Lake, content_frame, read_readings
from citycarbon.store.monitoring_registry import save_registry
from tests.api.conftest import ApiEnv, seeded_home, start

X = "91210200MA0XXXXXXU"  # enterprise-x's enterprise (tests/api/conftest.py PEOPLE)
Y = "91210200MA0YYYYYY7"
URL = "/api/v1/monitoring/readings"


def write_registry(db) -> None:
    enterprises = pd.DataFrame([
        {"enterprise_id": X, "name": "X 企业", "uscc": X, "industry_code": "2511", "region": "210202", "tier": "1",
         "annual_budget_tce": "", "budget_year": ""},
        {"enterprise_id": Y, "name": "Y 企业", "uscc": Y, "industry_code": "3110", "region": "210203", "tier": "1",
         "annual_budget_tce": "", "budget_year": ""}])
    points = pd.DataFrame([
        {"point_id": p, "enterprise_id": e, "energy_type": "electricity", "unit": "kWh", "kind": "interval",
         "multiplier": "1", "parent_point_id": "", "interval_minutes": "15", "register_max": "", "purpose": "main"}
        for p, e in (("X-EL", X), ("Y-EL", Y))])
    save_registry(db, {"enterprises": enterprises, "points": points}, "test")


@pytest.fixture
def env(tmp_path, tmp_path_factory) -> Iterator[ApiEnv]:
    settings, db = seeded_home(tmp_path / "home", tmp_path_factory)
    write_registry(db)
    try:
        yield from start(settings, db)
    finally:
        db.dispose()


def readings(point: str, count: int, value: float = 1.0, first: str = "2025-01-10T00:00:00+08:00") -> list[dict]:
    begin = pd.Timestamp(first)
    return [{"point_id": point, "start": (begin + pd.Timedelta(minutes=15 * i)).isoformat(),
             "end": (begin + pd.Timedelta(minutes=15 * (i + 1))).isoformat(), "value": value + i, "unit": "kWh"}
            for i in range(count)]


def post(env: ApiEnv, body, user: str = "enterprise-x", scope: str = "write", raw: bytes | None = None):
    return env.client.post(URL, headers={**env.headers(user, scope), "Content-Type": "application/json"},
                           content=raw if raw is not None else json.dumps(body))


def state(env: ApiEnv) -> tuple:
    lake = Lake.open(env.settings.lake_dir)
    with sqlite3.connect(lake.ledger_path) as con:
        ledger = con.execute("SELECT path FROM parts ORDER BY path").fetchall()
    return content_frame(lake).to_csv(), ledger


def test_enterprise_token_ingests_its_own_points_idempotently(env):
    answer = post(env, {"readings": readings("X-EL", 8), "batch_id": "terminal-1"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {k: body["data"][k] for k in ("accepted", "duplicate", "revised", "rejected")} == {
        "accepted": 8, "duplicate": 0, "revised": 0, "rejected": 0}
    assert body["meta"]["batch_id"] and body["meta"]["client_batch_id"] == "terminal-1"
    again = post(env, {"readings": readings("X-EL", 8)}).json()["data"]
    assert (again["accepted"], again["duplicate"]) == (0, 8)
    revised = post(env, {"readings": readings("X-EL", 1, value=50.0)}).json()["data"]
    assert revised["revised"] == 1
    assert len(read_readings(env.settings.lake_dir)) == 8
    with env.db.session() as session:
        from citycarbon.store import audit

        entries = audit.query(session, entity="meter_readings")
    assert len(entries) == 2 and entries[0]["actor"] == "enterprise-x"


def test_rows_of_another_enterprise_or_bad_types_are_rejected_with_reasons(env):
    mixed = [*readings("Y-EL", 1),
             {"point_id": "X-EL", "start": "2025-01-10T00:00:00", "end": "x", "value": "1", "unit": "kWh"},
             {"point_id": "X-EL", "start": 5, "value": None}]
    before = state(env)
    answer = post(env, {"readings": mixed})
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert data["accepted"] == 0 and data["rejected"] == 3
    assert [r["row"] for r in data["rejected_rows"]] == [1, 2, 3]
    assert data["rejected_rows"][0]["reason"] == f"point 'Y-EL' is not a registered point of enterprise '{X}'"
    assert data["rejected_rows"][1]["field"] == "start" and "offset" in data["rejected_rows"][1]["reason"]
    assert data["rejected_rows"][2]["field"] == "start" and "wrong type" in data["rejected_rows"][2]["reason"]
    assert state(env) == before


@pytest.mark.parametrize(("raw", "status", "field"), [
    (b"{not json", 422, "body"),
    (b"[1, 2]", 422, "body"),
    (b'{"readings": {"point_id": "X-EL"}}', 422, "readings"),
    (b'{"readings": [1]}', 422, "readings[0]"),
    (b'{"readings": [], "batch_id": 7}', 422, "batch_id"),
])
def test_malformed_batches_are_refused_naming_the_field_and_change_nothing(env, raw, status, field):
    post(env, {"readings": readings("X-EL", 2)})
    before = state(env)
    answer = post(env, None, raw=raw)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == "invalid_input" and error["problems"][0]["field"] == field
    assert state(env) == before


def test_oversized_batches_are_413_and_change_nothing(env):
    before = state(env)
    too_many = post(env, {"readings": readings("X-EL", 10_001)})
    assert too_many.status_code == 413 and "10000" in too_many.json()["error"]["message"]
    from citycarbon.monitoring.ingest import MAX_PAYLOAD_BYTES

    huge = post(env, None, raw=b" " * (MAX_PAYLOAD_BYTES + 1))
    assert huge.status_code == 413
    assert state(env) == before


def test_only_an_enterprise_write_token_or_admin_may_ingest(env):
    body = {"readings": readings("X-EL", 1)}
    assert post(env, body, scope="read").status_code == 403
    assert post(env, body, user="viewer", scope="read").status_code == 403
    assert post(env, body, user="analyst").status_code == 403
    assert post(env, body, user="district-a").status_code == 403
    assert env.client.post(URL, json=body).status_code == 401
    admin = post(env, {"readings": readings("Y-EL", 1)}, user="admin")
    assert admin.status_code == 200 and admin.json()["data"]["accepted"] == 1


def test_reads_are_scoped_to_the_caller(env):
    post(env, {"readings": readings("X-EL", 4)})
    post(env, {"readings": readings("Y-EL", 4)}, user="enterprise-y")
    listing = env.get("/api/v1/monitoring/enterprises", user="district-a", scope="read").json()["data"]
    assert [e["enterprise_id"] for e in listing] == [X]
    mine = env.get("/api/v1/monitoring/enterprises", user="enterprise-y", scope="read").json()["data"]
    assert [e["enterprise_id"] for e in mine] == [Y]
    assert len(env.get("/api/v1/monitoring/enterprises", user="admin").json()["data"]) == 2
    own = env.get("/api/v1/monitoring/readings", user="enterprise-x", scope="read", params={"per_page": 3}).json()
    assert own["meta"]["paging"]["total"] == 4 and len(own["data"]) == 3
    assert {r["point_id"] for r in own["data"]} == {"X-EL"}
    foreign = env.get("/api/v1/monitoring/readings", user="enterprise-x", params={"point_id": "Y-EL"})
    unknown = env.get("/api/v1/monitoring/readings", user="enterprise-x", params={"point_id": "NOPE"})
    assert foreign.status_code == unknown.status_code == 404 and foreign.json() == unknown.json()
    rollups = env.get("/api/v1/monitoring/rollups", user="district-b", scope="read",
                      params={"period": "day"}).json()
    assert {r["enterprise_id"] for r in rollups["data"]} == {Y}
    assert rollups["data"][0]["energy"] == pytest.approx(1 + 2 + 3 + 4)
    assert rollups["meta"]["factors"]
    city = env.get("/api/v1/monitoring/rollups", user="admin", params={"period": "month", "by": "city"}).json()
    assert city["data"][0]["energy"] == pytest.approx(20.0)
