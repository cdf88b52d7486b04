"""``/api/v1/projects/ledgers/…`` and a project's allocations: the office adds, imports, allocates and releases
(audited); over-spend and another product answer 409 with the numbers; districts see their district's sources
only (another district's: 404); ``/projects/ledgers`` is never read as a project code."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.projects.support import chemical_project, insert_project

API = "/api/v1/projects"
SOURCE = {"code": "API-E1", "kind": "energy", "amount": "4000", "unit": "tce", "origin": "closure",
          "document": "大工信发〔2026〕5号", "region_code": "210202"}


def _post(env, path, body, user="admin", scope="write"):
    return env.client.post(path, json=body, headers=env.headers(user, scope))


@pytest.fixture(scope="module")
def project(api_env):
    return insert_project(api_env.db, chemical_project(id="XM-2026-0701"))


def test_sources_allocations_and_release(api_env, project):
    added = _post(api_env, f"{API}/ledgers/sources", SOURCE)
    assert added.status_code == 201, added.text
    assert added.json()["data"]["remaining"] == "4000"
    assert _post(api_env, f"{API}/ledgers/sources", SOURCE).status_code == 409
    assert _post(api_env, f"{API}/ledgers/sources", {**SOURCE, "code": "X1", "unit": "t/a"}).status_code == 422
    assert _post(api_env, f"{API}/ledgers/sources", SOURCE, user="analyst").status_code == 403

    made = _post(api_env, f"{API}/{project}/allocations", {"source": "API-E1", "amount": "3000", "unit": "tce"})
    assert made.status_code == 201, made.text
    body = made.json()["data"]
    assert body["source"]["remaining"] == "1000" and body["allocation"]["project_code"] == project
    over = _post(api_env, f"{API}/{project}/allocations", {"source": "API-E1", "amount": "1000.5", "unit": "tce"})
    assert over.status_code == 409 and "余额" in over.json()["error"]["message"]
    assert "1000" in over.json()["error"]["message"]
    held = api_env.get(f"{API}/{project}/allocations").json()["data"]
    assert held["coverage"]["needs"][0]["allocated"] == "3000" and held["coverage"]["covered"] is False

    one = api_env.get(f"{API}/ledgers/sources/API-E1").json()["data"]
    assert [a["amount"] for a in one["allocations"]] == ["3000"]
    assert api_env.get(f"{API}/ledgers/sources/API-E1", user="district-a", scope="read").status_code == 200
    assert api_env.get(f"{API}/ledgers/sources/API-E1", user="district-b", scope="read").status_code == 404
    assert api_env.get(f"{API}/ledgers/sources", user="district-b", scope="read").json()["data"] == []

    edit = api_env.client.patch(f"{API}/ledgers/sources/API-E1", json={"amount": "5000", "reason": "更正"},
                                headers=api_env.headers("admin"))
    assert edit.status_code == 409 and "已有分配" in edit.json()["error"]["message"]

    allocation = body["allocation"]["id"]
    released = _post(api_env, f"{API}/allocations/{allocation}/release", {"reason": "项目撤回"})
    assert released.status_code == 200 and released.json()["data"]["source"]["remaining"] == "4000"
    again = _post(api_env, f"{API}/allocations/{allocation}/release", {"reason": "again"})
    assert again.status_code == 409
    assert _post(api_env, f"{API}/allocations/{2**63}/release", {"reason": "x"}).status_code == 422


def test_import_and_template(api_env):
    template = api_env.get(f"{API}/ledgers/template")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    assert "替代来源" in book.sheetnames
    header = "code,kind,amount,unit,origin,document,region_code\n"
    bad = (header + "API-I1,energy,100,tce,saving,确认〔2026〕1号,210202\nAPI-I2,energy,-1,tce,saving,x,210202\n")
    answer = api_env.client.post(f"{API}/ledgers/import", headers=api_env.headers("admin"),
                                 files={"file": ("l.csv", bad.encode(), "text/csv")}, data={"apply": "true"})
    assert answer.status_code == 422
    problems = answer.json()["error"]["problems"]
    assert [(p["file"], p["row"], p["field"]) for p in problems] == [("l.csv", 3, "amount")]
    assert api_env.get(f"{API}/ledgers/sources/API-I1").status_code == 404
    good = header + "API-I1,energy,100,tce,saving,确认〔2026〕1号,210202\n"
    done = api_env.client.post(f"{API}/ledgers/import", headers=api_env.headers("admin"),
                               files={"file": ("l.csv", good.encode(), "text/csv")}, data={"apply": "true"})
    assert done.status_code == 201 and done.json()["data"]["created"] == ["API-I1"]
