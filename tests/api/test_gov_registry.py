"""``/api/v1/governance/orgs`` and ``/api/v1/governance/matrix``: reads by role, edits by the office (audited,
versioned), imports with preview and errors naming file, row and column, the Excel workbooks."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

API = "/api/v1/governance"
ORGS_CSV = ("code,name_zh,name_en,kind,parent,region_code,short_zh\n"
            "water,大连市水务局,Water,department,leading_group,,水务局\n").encode()


@pytest.fixture(scope="module")
def dept(api_env):
    """A department user of 工业和信息化局 (miit) with a read token."""
    from citycarbon.store import users

    with api_env.db.session() as session:
        user, _ = users.create_user(session, username="miit-user", role="department", actor="test",
                                    org_code="miit")
        return {"Authorization": f"Bearer {users.issue_token(session, user, 'read', 'dept', actor='test')}"}


def test_every_caller_lists_the_organisations(api_env, dept):
    admin = api_env.get(f"{API}/orgs").json()["data"]
    assert len(admin) == 38 and admin[0]["code"] == "leading_group" and admin[0]["changed_by"]
    viewer = api_env.get(f"{API}/orgs", user="viewer", scope="read").json()["data"]
    assert len(viewer) == 38 and viewer[0]["changed_by"] == ""
    district = [o["code"] for o in api_env.get(f"{API}/orgs", user="district-a", scope="read").json()["data"]]
    assert "d210202" in district and "d210203" not in district
    one = api_env.client.get(f"{API}/orgs/miit", headers=dept).json()["data"]
    assert one["org"]["name_zh"] == "大连市工业和信息化局" and one["history"] == [] and one["measures"]
    assert api_env.get(f"{API}/orgs/nobody").status_code == 404


def test_the_office_edits_an_organisation_and_others_are_refused(api_env):
    body = {"name_en": "Bureau of Ocean Development (edited)", "reason": "英文名更正"}
    for user, scope in (("viewer", "read"), ("analyst", "write"), ("admin", "read"), ("district-a", "write")):
        answer = api_env.client.patch(f"{API}/orgs/marine", json=body, headers=api_env.headers(user, scope))
        assert answer.status_code == 403, (user, scope)
    answer = api_env.client.patch(f"{API}/orgs/marine", json=body, headers=api_env.headers("admin"))
    assert answer.status_code == 200 and answer.json()["data"]["version"] == 2
    bad = api_env.client.patch(f"{API}/orgs/marine", json={"parent": "nowhere", "reason": "x"},
                               headers=api_env.headers("admin"))
    assert bad.status_code == 422
    assert api_env.client.patch(f"{API}/orgs/marine", json={"reason": "x", "bogus": 1},
                                headers=api_env.headers("admin")).status_code == 422
    history = api_env.get(f"{API}/orgs/marine").json()["data"]["history"]
    assert [h["change_reason"] for h in history][-1] == "英文名更正"
    created = api_env.client.put(f"{API}/orgs/z_new", headers=api_env.headers("admin"), json={
        "name_zh": "新区管委会", "kind": "pilot_zone", "parent": "leading_group", "region_code": "210213",
        "reason": "新设"})
    assert created.status_code == 200 and created.json()["data"]["version"] == 1


def test_the_registry_import_previews_and_applies_and_names_bad_rows(api_env):
    files = {"file": ("orgs.csv", ORGS_CSV, "text/csv")}
    preview = api_env.client.post(f"{API}/orgs/import", files=files, headers=api_env.headers("admin"))
    assert preview.status_code == 200
    assert preview.json()["data"]["counts"] == {"create": 0, "update": 1, "unchanged": 0}
    applied = api_env.client.post(f"{API}/orgs/import", files=files, data={"apply": "true", "reason": "更新"},
                                  headers=api_env.headers("admin"))
    assert applied.status_code == 201 and applied.json()["data"]["applied"] is True
    bad = ORGS_CSV + b"Bad,x,,nothing,,,\n"
    refused = api_env.client.post(f"{API}/orgs/import", files={"file": ("orgs.csv", bad, "text/csv")},
                                  data={"apply": "true"}, headers=api_env.headers("admin"))
    assert refused.status_code == 422
    problems = refused.json()["errors"] if "errors" in refused.json() else refused.json()
    assert "orgs.csv" in str(problems) and "kind" in str(problems)
    assert api_env.client.post(f"{API}/orgs/import", files=files, data={"apply": "true"},
                               headers=api_env.headers("analyst")).status_code == 403


def test_the_matrix_is_scoped_to_the_callers_unit(api_env, dept):
    everything = api_env.get(f"{API}/matrix").json()["data"]
    mine = api_env.client.get(f"{API}/matrix", headers=dept).json()["data"]
    assert 0 < len(mine) < len(everything)
    assert all("miit" in [u["code"] for u in m["units"]] for m in mine)
    foreign = next(m["code"] for m in everything if "miit" not in [u["code"] for u in m["units"]])
    assert api_env.client.get(f"{API}/matrix/{foreign}", headers=dept).status_code == 404
    assert api_env.client.get(f"{API}/matrix/{mine[0]['code']}", headers=dept).status_code == 200
    assert api_env.get(f"{API}/matrix", user="viewer", scope="read").json()["data"] == []
    task10 = api_env.get(f"{API}/matrix", params={"task": 10}).json()["data"]
    assert {m["task"] for m in task10} == {10}
    wind = next(i for m in task10 for i in m["indicators"] if i["code"] == "wind_solar_capacity")
    assert (wind["target"], wind["unit"]) == (8000.0, "MW")


def test_the_office_edits_a_measure(api_env):
    body = {"reason": "明确配合单位", "co_units": ["drc", "grid"], "deadline": "2028-12-31",
            "indicators": [{"code": "charging_points", "name_zh": "新能源汽车充电桩", "unit": "count",
                            "target": 30000, "year": 2025, "status": "estimate"}]}
    answer = api_env.client.patch(f"{API}/matrix/T13-M05", json=body, headers=api_env.headers("admin"))
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["co_units"] == ["drc", "grid"] and data["indicators"][0]["target"] == 30000.0
    bad = api_env.client.patch(f"{API}/matrix/T13-M05", headers=api_env.headers("admin"),
                               json={"reason": "x", "lead": "nobody",
                                     "indicators": [{"code": "x", "name_zh": "x", "unit": "bananas"}]})
    assert bad.status_code == 422
    assert api_env.client.patch(f"{API}/matrix/T13-M05", json=body,
                                headers=api_env.headers("district-a")).status_code == 403
    assert api_env.client.patch(f"{API}/matrix/T99-M99", json=body,
                                headers=api_env.headers("admin")).status_code == 404


def test_the_matrix_workbook_downloads_and_imports_back(api_env):
    template = api_env.get(f"{API}/matrix/template")
    assert template.status_code == 200 and template.headers["content-type"].startswith(
        "application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(template.content))["措施"].max_row == 1
    export = api_env.get(f"{API}/matrix/template", params={"filled": "true"})
    book = load_workbook(io.BytesIO(export.content))
    assert book["措施"].max_row > 100
    preview = api_env.client.post(f"{API}/matrix/import", headers=api_env.headers("admin"),
                                  files={"file": ("matrix.xlsx", export.content, "application/octet-stream")})
    assert preview.status_code == 200 and preview.json()["data"]["counts"]["update"] == 0
    orgs = api_env.get(f"{API}/orgs/template", params={"filled": "false"})
    assert load_workbook(io.BytesIO(orgs.content))["组织机构"].max_row == 1
