"""Import workflow through the API: a file with an error is refused naming row and field and nothing reaches
the ledger; the fixed file is previewed, approved by an admin (202 + job) and the indicators change. Bad input
at the write endpoints: a clear message, nothing written (ledger version and audit count compared)."""

from __future__ import annotations

import time

import pytest

API = "/api/v1"
HEADER = "year,region,variable,value,unit,price_base_year,status,source\n"
#: GDP 2022 at constant 2020 prices raised from 7911.2 to 8702.32 (+10 %): the intensity must fall by 1/1.1
FIXED = HEADER + '2022,210200,gdp,8702.32,10^8 CNY,2020,official,"test upload: revised GDP"\n'
BROKEN = HEADER + '2022,210200,gdpp,8702.32,10^8 CNY,2020,official,"test upload: revised GDP"\n'


def _state(env) -> tuple[int, int, int]:
    """(ledger version, audit rows, current statistics rows)."""
    version = env.client.get("/healthz").json()["ledger_version"]
    audit = env.get(f"{API}/audit", params={"per_page": 1}).json()["meta"]["paging"]["total"]
    rows = env.get(f"{API}/statistics", params={"per_page": 1}).json()["meta"]["paging"]["total"]
    return version, audit, rows


def _upload(env, text: str, user: str = "analyst", **form):
    return env.client.post(f"{API}/imports", headers=env.headers(user), files={"file": ("gdp.csv", text.encode())},
                           data={"kind": "statistics", "mode": "none", **form})


def _wait(env, job_id: str) -> dict:
    for _ in range(600):
        job = env.get(f"{API}/jobs/{job_id}").json()["data"]
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_upload_error_fix_approve_changes_the_indicators(fresh_env):
    _workflow(fresh_env)


def test_import_workflow_on_postgresql(backend_env):
    if backend_env.db.dialect != "postgresql":
        pytest.skip("the SQLite variant is test_upload_error_fix_approve_changes_the_indicators")
    _workflow(backend_env)


def _workflow(env) -> None:
    before = env.get(f"{API}/indicators/2022").json()["data"]["indicators"]
    version, audit_rows, rows = _state(env)

    refused = _upload(env, BROKEN)
    assert refused.status_code == 422
    error = refused.json()["error"]
    problem = error["problems"][0]
    assert problem["row"] == 2 and problem["field"] == "variable" and problem["suggestion"] == "gdp"  # header: row 1
    assert "gdp.csv" in (problem["file"] or "") and "row 2" in error["message"]
    after_refusal = _state(env)
    assert after_refusal[0] == version and after_refusal[2] == rows  # nothing in the ledger
    assert after_refusal[1] == audit_rows + 1  # the rejected upload is on record

    accepted = _upload(env, FIXED)
    assert accepted.status_code == 201, accepted.text
    batch = accepted.json()["data"]
    assert batch["status"] == "validated" and batch["preview"]["changed"] == 1 and batch["preview"]["new"] == 0
    assert _state(env)[0] == version

    assert env.client.post(f"{API}/imports/{batch['id']}/approve", headers=env.headers("analyst")).status_code == 403
    assert env.client.post(f"{API}/imports/{batch['id']}/approve",
                           headers=env.headers("admin", "read")).status_code == 403
    approved = env.client.post(f"{API}/imports/{batch['id']}/approve", headers=env.headers("admin"),
                               json={"reason": "statistics bureau revision"})
    assert approved.status_code == 202, approved.text
    job = _wait(env, approved.json()["data"]["job_id"])
    assert job["status"] == "done", job
    assert _state(env)[0] > version

    after = env.get(f"{API}/indicators/2022").json()
    assert after["meta"]["ledger_version"] > version
    intensity = "energy_intensity_tce_per_10k_yuan"
    assert after["data"]["indicators"][intensity] == pytest.approx(before[intensity] / 1.1, rel=1e-9)
    assert after["data"]["indicators"]["energy_consumption_tce"] == pytest.approx(before["energy_consumption_tce"])
    history = env.get(f"{API}/statistics/history", params={"year": 2022, "region": "210200", "variable": "gdp",
                                                          "price_base_year": 2020}).json()["data"]
    assert [h["value"] for h in history] == [7911.2, 8702.32]

    again = env.client.post(f"{API}/imports/{batch['id']}/approve", headers=env.headers("admin"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_district_user_cannot_import_another_regions_rows(fresh_env):
    env = fresh_env
    version, audit_rows, _ = _state(env)
    other = HEADER + '2022,210203,population,70,10^4 person,,official,"test"\n'
    answer = _upload(env, other, user="district-a")
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["field"] == "region"
    assert _state(env)[:2] == (version, audit_rows)  # the refused upload was rolled back entirely
    assert env.client.post(f"{API}/imports", headers=env.headers("viewer", "read"),
                           files={"file": ("x.csv", other.encode())}).status_code == 403


def test_bad_input_at_write_endpoints_writes_nothing(fresh_env):
    env = fresh_env
    state = _state(env)
    admin = env.headers("admin")
    cases = [
        env.client.post(f"{API}/users", headers=admin, json={"username": "x", "role": "emperor"}),
        env.client.post(f"{API}/users", headers=admin, json={"username": "new-user", "role": "district"}),
        env.client.post(f"{API}/users", headers=admin, json={"username": "u2", "role": "viewer", "is_admin": True}),
        env.client.post(f"{API}/users", headers={**admin, "Content-Type": "application/json"}, content=b"{not json"),
        env.client.patch(f"{API}/users/viewer", headers=admin, json={"regions": "210202"}),
        env.client.patch(f"{API}/users/viewer", headers=admin, json={}),
        env.client.post(f"{API}/users/viewer/tokens", headers=admin, json={"scope": "write"}),
        env.client.post(f"{API}/users/viewer/tokens", headers=admin, json={"scope": "read", "expires_days": 0}),
        env.client.post(f"{API}/imports", headers=admin, files={"file": ("empty.csv", b"")}),
        env.client.post(f"{API}/imports", headers=admin, files={"file": ("x.csv", b"a,b\n1,2\n")},
                        data={"kind": "water"}),
        env.client.post(f"{API}/imports/1/approve", headers=admin, json={"reason": 5, "extra": 1}),
        env.client.post(f"{API}/auth/login", json={"username": "admin"}),
    ]
    for answer in cases:
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "invalid_input" and error["message"]
        assert error["problems"] and all(p["message"] for p in error["problems"]), answer.text
    assert _state(env) == state


def test_oversized_body_is_413_and_writes_nothing(fresh_env):
    env = fresh_env
    state = _state(env)
    big = b"year,region\n" + b"2022,210200\n" * (21 * 1024 * 1024 // 12)
    answer = env.client.post(f"{API}/imports", headers=env.headers("admin"), files={"file": ("big.csv", big)})
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert _state(env) == state


def test_batches_are_seen_discarded_and_addressed_by_the_service_rules(fresh_env):
    env = fresh_env
    own = HEADER + '2022,210202,population,60.1,10^4 person,,official,"test"\n'
    district = _upload(env, own, user="district-a").json()["data"]["id"]
    analyst = _upload(env, FIXED).json()["data"]["id"]

    def listed(user: str, scope: str = "write") -> set[int]:
        return {b["id"] for b in env.get(f"{API}/imports", user=user, scope=scope).json()["data"]}

    assert {district, analyst} <= listed("admin") and {district, analyst} <= listed("analyst", "read")
    assert listed("district-a", "read") == {district} and listed("district-b") == set()
    assert env.get(f"{API}/imports/{district}", user="district-b").status_code == 404
    assert env.get(f"{API}/imports", user="viewer", scope="read").status_code == 403
    for bad in ("99999999999999999999999", "0", "abc"):
        answer = env.get(f"{API}/imports/{bad}")
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_input", bad
    assert env.get(f"{API}/imports/2147483647").status_code == 404
    # the analyst sees the district's batch but only its uploader or an admin discards it
    refused = env.client.post(f"{API}/imports/{district}/discard", headers=env.headers("analyst"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert env.client.post(f"{API}/imports/{district}/discard",
                           headers=env.headers("district-a", "read")).status_code == 403
    assert env.client.post(f"{API}/imports/{district}/discard", headers=env.headers("district-a")).status_code == 200
    again = env.client.post(f"{API}/imports/{district}/discard", headers=env.headers("district-a"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert env.client.post(f"{API}/imports/{analyst}/discard", headers=env.headers("admin")).status_code == 200
    assert env.client.post(f"{API}/imports", headers=env.headers("district-a"), data={"mode": "all"},
                           files={"file": ("own.csv", own.encode())}).status_code == 422
