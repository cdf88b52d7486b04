"""``POST /api/v1/imports`` takes every importable dataset of the registry (here: capacity and the meter lake's
monthly feed), answers the preview with its mode and the values approval would close, and approves into the
ledger."""

from __future__ import annotations

API = "/api/v1"
CAPACITY = "year,region,technology,capacity,unit\n2030,210200,wind_offshore,2500,MW\n"
MONTHLY = ("year,month,region,variable,value,unit,status,source\n"
           "2031,1,210200,key_unit_energy_tce,1000.5,tce,reported,lake\n")


def test_capacity_and_monthly_import_through_the_api(fresh_env):
    for name, text, kind in (("capacity.csv", CAPACITY, "capacity"), ("feed.csv", MONTHLY, None)):
        data = {"kind": kind} if kind else {}
        answer = fresh_env.client.post(f"{API}/imports", headers=fresh_env.headers("analyst"),
                                       files={"file": (name, text.encode())}, data=data)
        assert answer.status_code == 201, answer.text
        batch = answer.json()["data"]
        assert batch["mode"] == "keys" and batch["preview"]["mode"] == "keys"
        assert batch["preview"]["new"] == 1 and batch["preview"]["closing"] == []
        approved = fresh_env.client.post(f"{API}/imports/{batch['id']}/approve", headers=fresh_env.headers("admin"),
                                         json={"reason": "api test"})
        assert approved.status_code == 202, approved.text
        assert approved.json()["data"]["ledger"]["inserted"] == 1
    bad = fresh_env.client.post(f"{API}/imports", headers=fresh_env.headers("analyst"),
                                files={"file": ("c.csv", CAPACITY.replace("MW", "ha").encode())},
                                data={"kind": "capacity"})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "unit"
    unknown = fresh_env.client.post(f"{API}/imports", headers=fresh_env.headers("analyst"),
                                    files={"file": ("c.csv", CAPACITY.encode())}, data={"kind": "capacty"})
    assert unknown.status_code == 422
